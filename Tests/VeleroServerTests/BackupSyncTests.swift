import ChunkStore
import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("backup sync between clusters sharing a store", .serialized)
struct BackupSyncTests {
    /// The `data` of every config map in a namespace, by name.
    static func configMapData(_ harness: ServerHarness, _ namespace: String) async throws -> [String: String] {
        var result: [String: String] = [:]
        try await harness.client.listAll(ServerHarness.configMaps, namespace: namespace) { page in
            for object in page {
                let json = try JSONSerialization.jsonObject(with: Data(object.json)) as? [String: Any]
                let data = try JSONSerialization.data(
                    withJSONObject: json?["data"] ?? [String: String](), options: [.sortedKeys])
                result[object.name] = String(decoding: data, as: UTF8.self)
            }
        }
        return result
    }

    @Test(
        "a backup made through one cluster appears in a second cluster's server, restores there, and goes when deleted from the store"
    )
    func syncAndRestoreInSecondCluster() async throws {
        try await ServerHarness.with { first in
            let namespace = first.namespaces[0]
            let made = try await first.withServer {
                try await first.apply(
                    first.backupManifest("migrate", namespace: namespace), to: Backup.resource, namespace: "velero")
                return try await first.finishedBackup("migrate")
            }
            #expect(made.phase == .completed)
            let original = try await Self.configMapData(first, namespace)
            #expect(!original.isEmpty)

            // A damaged record sorted before it: sync skips that one and still brings the rest.
            try await LocalDirectoryStore(root: first.storePath).put("backups/broken.json", Array("not a record".utf8))
            try await ServerHarness.with(sharedStore: first.storePath) { second in
                #expect(try await second.backup("migrate") == nil)
                try await second.withServer {
                    let synced = try await second.waitFor("the backup to be synced") {
                        try await second.backup("migrate")
                    }
                    #expect(synced.phase == .completed)
                    #expect(try await second.backup("broken") == nil)
                    // Garbage collection must refuse to run beside a record it cannot read (it cannot know what that
                    // record holds), so the damaged one goes before the deletion below.
                    try await LocalDirectoryStore(root: first.storePath).delete("backups/broken.json")
                    #expect(synced.metadata.labels?["velero.io/storage-location"] == "default")
                    #expect(synced.metadata.labels?["team"] == "a")
                    #expect(synced.spec.storageLocation == "default")
                    #expect(synced.spec.includedNamespaces == [namespace])
                    #expect(synced.spec.ttl == "24h0m0s")
                    let status = try #require(synced.status)
                    #expect(status.progress?.itemsBackedUp == made.status?.progress?.itemsBackedUp)
                    #expect(status.expiration == made.status?.expiration)
                    #expect(status.startTimestamp == made.status?.startTimestamp)
                    #expect(status.errors == 0)
                    // The location records the sync.
                    try await second.waitFor("lastSyncedTime") {
                        try await second.location("default").status?.lastSyncedTime
                    }

                    try await second.apply(
                        """
                        {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"arrive"},\
                        "spec":{"backupName":"migrate","namespaceMapping":{"\(namespace)":"arrived"}}}
                        """, to: Restore.resource, namespace: "velero")
                    let restore = try await second.finishedRestore("arrive")
                    #expect(restore.phase == .completed, "\(String(describing: restore.status))")
                    let restored = try await Self.configMapData(second, "arrived")
                    for (name, data) in original {
                        #expect(restored[name] == data, "config map \(name) restored with the same data")
                    }
                    // The synced backup was never run again by the second server.
                    #expect(try await second.backup("migrate")?.status?.startTimestamp == made.status?.startTimestamp)

                    // Deleted through the first cluster: its data leaves the store, and the second cluster's
                    // object goes at the next sync.
                    try await first.withServer {
                        try await first.create(
                            DeleteBackupRequest(backupName: "migrate", backupUID: nil, namespace: "velero"))
                        try await first.waitFor("the first cluster to delete the backup") {
                            try await first.backup("migrate") == nil ? true : nil
                        }
                    }
                    #expect(try await first.storedBackup("migrate") == nil)
                    try await second.waitFor("the second cluster's synced backup to go") {
                        try await second.backup("migrate") == nil ? true : nil
                    }
                }
            }
        }
    }

    @Test(
        "sync leaves the cluster's own backups alone, and deletes one whose data `backup delete` removed from the store"
    )
    func syncLeavesOwnBackups() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest(
                        "own", namespace: harness.namespaces[0], extraSpec: #","storageLocation":"default""#),
                    to: Backup.resource, namespace: "velero")
                // One that names no location: which is the default may change, so sync never judges it an orphan.
                try await harness.apply(
                    harness.backupManifest("unnamed", namespace: harness.namespaces[0]), to: Backup.resource,
                    namespace: "velero")
                #expect(try await harness.finishedBackup("unnamed").phase == .completed)
                #expect(try await harness.finishedBackup("own").phase == .completed)
                try await harness.waitFor("a sync pass after the backup") { () -> Bool? in
                    let synced = try await harness.location("default").status?.lastSyncedTime
                    let finished = try await harness.backup("own")?.status?.completionTimestamp
                    guard let synced, let finished else { return nil }
                    return synced > finished ? true : nil
                }
                let backup = try #require(try await harness.backup("own"))
                #expect(backup.phase == .completed)
                #expect(backup.metadata.annotations?["velero-cas.io/synced-from-store"] == nil)

                // A user with the store's password deletes the backup's data with the CLI, not through the cluster.
                let deleted = try await ServerProcess.run(
                    ["backup", "delete", "own", "--confirm", "--store", harness.storePath],
                    environment: ["VELERO_CAS_PASSWORD": "server-test-password", "HOME": harness.temp.sub("home")])
                #expect(deleted.status == 0, "\(deleted.errors)")
                #expect(try await harness.storedBackup("own") == nil)
                try await harness.waitFor("the Backup object of the deleted data to go") {
                    try await harness.backup("own") == nil ? true : nil
                }
                let unnamedDeleted = try await ServerProcess.run(
                    ["backup", "delete", "unnamed", "--confirm", "--store", harness.storePath],
                    environment: ["VELERO_CAS_PASSWORD": "server-test-password", "HOME": harness.temp.sub("home")])
                #expect(unnamedDeleted.status == 0, "\(unnamedDeleted.errors)")
                let synced = try #require(try await harness.location("default").status?.lastSyncedTime)
                try await harness.waitFor("two more sync passes") { () -> Bool? in
                    let last = try await harness.location("default").status?.lastSyncedTime
                    return (last ?? synced) >= synced.addingTimeInterval(2) ? true : nil
                }
                #expect(try await harness.backup("unnamed")?.phase == .completed)
            }
        }
    }
}
