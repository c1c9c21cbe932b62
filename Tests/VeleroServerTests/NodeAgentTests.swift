import ChunkStore
import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("Node agents: pod volume backup from two nodes", .serialized)
struct NodeAgentTests {
    func configuration(_ harness: ServerHarness) -> VeleroServer.Configuration {
        var configuration = harness.configuration()
        configuration.podVolumePollInterval = .milliseconds(100)
        configuration.podVolumeOperationTimeout = .seconds(60)
        return configuration
    }

    func backup(_ harness: ServerHarness, _ name: String, namespace: String, extra: String = "") async throws
        -> Backup
    {
        try await harness.apply(
            """
            {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"\(name)","namespace":"velero"},\
            "spec":{"includedNamespaces":["\(namespace)"]\(extra)}}
            """, to: Backup.resource, namespace: "velero")
        return try await harness.finishedBackup(name, seconds: 60)
    }

    func restored(_ harness: ServerHarness, snapshot: String) async throws -> [String: [UInt8]] {
        let target = harness.temp.sub("restored-\(snapshot)")
        _ = try await TreeRestore(repository: try await harness.repository()).run(snapshot: snapshot, into: target)
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: target)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: target + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue {
                files[relative] = Array(try Data(contentsOf: URL(fileURLWithPath: target + "/" + relative)))
            }
        }
        return files
    }

    @Test(
        "annotated volumes on two nodes: backed up where they live, skipped kinds and a missing directory reported, data restores byte for byte, incremental per volume, same data stored once"
    )
    func twoNodes() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            let agentA = try nodes.startAgent("node-a")
            let agentB = try nodes.startAgent("node-b")
            defer {
                for agent in [agentA, agentB] where agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
            }
            func logs() -> String { "a: \(nodes.agentLog("node-a"))\nb: \(nodes.agentLog("node-b"))" }
            try await nodes.namespace("shop")
            let shared = NodeCluster.noise(300_000, seed: 7)
            let webData: [String: [UInt8]] = [
                "index.html": Array("<h1>shop</h1>\n".utf8), "assets/blob.bin": shared, "empty": [],
            ]
            let web = try await nodes.pod(
                "web", namespace: "shop", node: "node-a",
                volumes: """
                    [{"name":"data","emptyDir":{}},{"name":"creds","secret":{"secretName":"s"}},\
                    {"name":"conf","configMap":{"name":"c"}},{"name":"host","hostPath":{"path":"/etc"}}]
                    """,
                annotations: ["backup.velero.io/backup-volumes": "data,creds,conf,host"])
            try nodes.volume(
                node: "node-a", podUID: web, plugin: "kubernetes.io~empty-dir", directory: "data", files: webData)
            let claimUID = try await nodes.claim("db-data", namespace: "shop", volume: "pv-db-1")
            let db = try await nodes.pod(
                "db", namespace: "shop", node: "node-b",
                volumes: """
                    [{"name":"data","persistentVolumeClaim":{"claimName":"db-data"}},{"name":"gone","emptyDir":{}},\
                    {"name":"unasked","emptyDir":{}}]
                    """,
                annotations: ["backup.velero.io/backup-volumes": "data,gone"])
            let dbData: [String: [UInt8]] = ["table.db": NodeCluster.noise(200_000, seed: 11), "wal/0001": [1, 2, 3]]
            try nodes.volume(
                node: "node-b", podUID: db, plugin: "kubernetes.io~csi", directory: "pv-db-1", files: dbData)
            // "unasked" exists on the node but is not annotated: not backed up. "gone" has no directory.
            try nodes.volume(
                node: "node-b", podUID: db, plugin: "kubernetes.io~empty-dir", directory: "unasked",
                files: ["x": [9]])

            try await harness.withServer(configuration(harness)) {
                let first = try await backup(harness, "first", namespace: "shop")
                #expect(first.phase == .partiallyFailed, "\(logs())")
                let record = try #require(try await harness.storedBackup("first"))
                let gone = record.errors.filter { $0.contains("shop/db/gone") }
                #expect(gone.count == 1, "\(record.errors)")
                #expect(gone.first?.contains("no directory") == true, "\(record.errors)")
                #expect(gone.first?.contains("node-b") == true)
                for skipped in ["creds", "conf", "host"] {
                    #expect(
                        record.warnings.contains { $0.contains("shop/web/\(skipped)") }, "\(record.warnings)")
                }
                #expect(!record.warnings.contains { $0.contains("unasked") })

                let pvbs = try await nodes.podVolumeBackups(backup: "first")
                #expect(
                    Set(pvbs.map { "\($0.spec.pod.name ?? "")/\($0.spec.volume)" }) == [
                        "web/data", "db/data", "db/gone",
                    ])
                let webPVB = try #require(pvbs.first { $0.spec.pod.name == "web" })
                let dbPVB = try #require(pvbs.first { $0.spec.pod.name == "db" && $0.spec.volume == "data" })
                let gonePVB = try #require(pvbs.first { $0.spec.volume == "gone" })
                #expect(webPVB.spec.node == "node-a" && dbPVB.spec.node == "node-b")
                #expect(webPVB.phase == .completed && dbPVB.phase == .completed, "\(logs())")
                #expect(gonePVB.phase == .failed)
                #expect(gonePVB.status?.message?.contains("/pods/\(db)/volumes/*/gone") == true)
                #expect(webPVB.metadata.labels?["velero.io/backup-uid"] == first.metadata.uid)
                #expect(webPVB.metadata.labels?["velero.io/pvc-uid"] == nil)
                #expect(dbPVB.metadata.labels?["velero.io/pvc-uid"] == claimUID)
                #expect(dbPVB.status?.path?.hasSuffix("kubernetes.io~csi/pv-db-1/mount") == true)
                #expect(webPVB.status?.progress?.bytesDone == Int64(300_000 + 14))
                let owners = try await harness.client.get(
                    PodVolumeBackup.resource, namespace: "velero", name: webPVB.name)
                #expect(String(decoding: owners.json, as: UTF8.self).contains(#""kind":"Backup""#))

                // The snapshots are the backup's volumes and restore byte for byte.
                let webVolume = try #require(record.volumes.first { $0.podVolume?.pod == "web" })
                let dbVolume = try #require(record.volumes.first { $0.podVolume?.pod == "db" && $0.snapshot != nil })
                #expect(webVolume.snapshot == webPVB.status?.snapshotID)
                let webSnapshot = try #require(webVolume.snapshot)
                let dbSnapshot = try #require(dbVolume.snapshot)
                #expect(try await restored(harness, snapshot: webSnapshot) == webData)
                #expect(try await restored(harness, snapshot: dbSnapshot) == dbData)
                #expect(dbVolume.claim == "shop/db-data" && dbVolume.persistentVolume == "pv-db-1")

                // Same data on another node, in another namespace: stored once.
                try await nodes.namespace("copy")
                let copy = try await nodes.pod(
                    "copy", namespace: "copy", node: "node-b", volumes: #"[{"name":"data","emptyDir":{}}]"#,
                    annotations: ["backup.velero.io/backup-volumes": "data"])
                try nodes.volume(
                    node: "node-b", podUID: copy, plugin: "kubernetes.io~empty-dir", directory: "data",
                    files: ["blob.bin": shared])
                let second = try await backup(harness, "copy", namespace: "copy")
                #expect(second.phase == .completed, "\(logs())")
                let copied = try #require(try await harness.storedBackup("copy")?.volumes.first)
                #expect(copied.logicalBytes == 300_000)
                #expect(copied.newStoredBytes < 30_000, "the 300 kB already stored from node-a")

                // The same pod volume again: incremental against the first backup's snapshot.
                let again = try await backup(harness, "again", namespace: "shop")
                #expect(again.phase == .partiallyFailed)
                let againRecord = try #require(try await harness.storedBackup("again"))
                let webAgain = try #require(againRecord.volumes.first { $0.podVolume?.pod == "web" })
                let againName = try #require(webAgain.snapshot)
                let snapshot = try #require(
                    try await harness.repository().record(Snapshot.self, key: Snapshot.key(againName)))
                #expect(snapshot.parent == webVolume.snapshot)

                // Deleting the first backup expires its pod volume snapshots; the later backups still restore.
                try await harness.create(
                    DeleteBackupRequest(backupName: "first", backupUID: nil, namespace: "velero"))
                try await harness.waitFor("the first backup to be deleted") {
                    try await harness.backup("first") == nil ? true : nil
                }
                let repository = try await harness.repository()
                #expect(try await repository.record(Snapshot.self, key: Snapshot.key(webSnapshot)) == nil)
                #expect(try await restored(harness, snapshot: againName) == webData)
                let report = try await StoreVerifier(repository: repository).verify(readData: true)
                #expect(report.isClean, "\(report.damage)")
            }
        }
    }

    @Test("defaultVolumesToFsBackup: every volume but the excluded and the kinds never backed up")
    func defaultSelection() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            let agent = try nodes.startAgent("node-c")
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("jobs")
            let worker = try await nodes.pod(
                "worker", namespace: "jobs", node: "node-c",
                volumes: """
                    [{"name":"a","emptyDir":{}},{"name":"b","emptyDir":{}},\
                    {"name":"token","projected":{"sources":[]}},{"name":"info","downwardAPI":{"items":[]}}]
                    """,
                annotations: ["backup.velero.io/backup-volumes-excludes": "b"])
            for name in ["a", "b"] {
                try nodes.volume(
                    node: "node-c", podUID: worker, plugin: "kubernetes.io~empty-dir", directory: name,
                    files: ["f": Array(name.utf8)])
            }
            try await harness.withServer(configuration(harness)) {
                let done = try await backup(
                    harness, "all", namespace: "jobs", extra: #","defaultVolumesToFsBackup":true"#)
                #expect(done.phase == .completed, "\(nodes.agentLog("node-c"))")
                let pvbs = try await nodes.podVolumeBackups(backup: "all")
                #expect(pvbs.map(\.spec.volume) == ["a"])
                let record = try #require(try await harness.storedBackup("all"))
                let warning = try #require(record.warnings.first { $0.contains("jobs/worker") })
                #expect(warning.contains("token") && warning.contains("projected"))
                #expect(warning.contains("info") && warning.contains("downwardAPI"))
                // A chosen volume whose claim does not exist is an error on the backup, not the end of it.
                _ = try await nodes.pod(
                    "orphan", namespace: "jobs", node: "node-c",
                    volumes: #"[{"name":"v","persistentVolumeClaim":{"claimName":"no-such-claim"}}]"#,
                    annotations: ["backup.velero.io/backup-volumes": "v"])
                let orphan = try await backup(
                    harness, "orphan", namespace: "jobs", extra: #","defaultVolumesToFsBackup":true"#)
                #expect(orphan.phase == .partiallyFailed)
                let orphanRecord = try #require(try await harness.storedBackup("orphan"))
                #expect(
                    orphanRecord.errors.contains { $0.contains("jobs/orphan/v") && $0.contains("no-such-claim") },
                    "\(orphanRecord.errors)")
                #expect(orphanRecord.volumes.contains { $0.podVolume?.pod == "worker" && $0.snapshot != nil })
                // A PodVolumeBackup that does not decode is marked Failed, naming the field; the agent goes on.
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"PodVolumeBackup","metadata":{"name":"bad"},"spec":{"node":"node-c","pod":{"name":"worker"}}}"#,
                    to: PodVolumeBackup.resource, namespace: "velero")
                let bad = try await harness.waitFor("the malformed object to be failed") { () -> String? in
                    let object = try await harness.client.get(
                        PodVolumeBackup.resource, namespace: "velero", name: "bad")
                    let text = String(decoding: object.json, as: UTF8.self)
                    return text.contains("Failed") ? text : nil
                }
                #expect(bad.contains("malformed") && bad.contains("volume"), "\(bad)")
                // Without the flag and without annotations, nothing is chosen.
                try await harness.client.delete(NodeCluster.pods, namespace: "jobs", name: "orphan")
                let none = try await backup(harness, "none", namespace: "jobs")
                #expect(none.phase == .completed)
                #expect(try await nodes.podVolumeBackups(backup: "none").isEmpty)
            }
        }
    }
}
