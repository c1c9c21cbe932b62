import Collectors
import Foundation
import KubeClient
import SystemIO
import Testing
import VeleroAPI
import VeleroServer

@Suite("BackupStorageLocation validation and access mode", .serialized)
struct LocationValidationTests {
    @Test("each location is validated periodically: Available, Unavailable with the reason, and back")
    func validation() async throws {
        try await ServerHarness.with { harness in
            let later = harness.temp.sub("later")
            let broken = BackupStorageLocation(
                name: "later", namespace: "velero", spec: .init(provider: "local", config: ["path": later]))
            try await harness.create(broken)
            try await harness.create(
                BackupStorageLocation(
                    name: "elsewhere", namespace: "velero",
                    spec: .init(provider: "gcp", objectStorage: .init(bucket: "b"))))
            try await harness.withServer {
                // The default location's directory does not exist before the first backup either; one backup
                // makes it.
                try await harness.apply(
                    harness.backupManifest("first", namespace: harness.namespaces[0]), to: Backup.resource,
                    namespace: "velero")
                #expect(try await harness.finishedBackup("first").phase == .completed)
                let available = try await harness.waitFor("default to be Available") {
                    try await harness.location("default").status.flatMap {
                        $0.phase == .available && $0.message?.isEmpty != false ? $0 : nil
                    }
                }
                let firstCheck = try #require(available.lastValidationTime)
                #expect(available.message?.isEmpty != false, "\(String(describing: available.message))")

                let unavailable = try await harness.waitFor("'later' to be Unavailable") {
                    try await harness.location("later").status.flatMap { $0.phase == .unavailable ? $0 : nil }
                }
                #expect(unavailable.message?.contains(later) == true, "\(String(describing: unavailable.message))")
                let foreign = try await harness.waitFor("'elsewhere' to be Unavailable") {
                    try await harness.location("elsewhere").status.flatMap { $0.phase == .unavailable ? $0 : nil }
                }
                #expect(foreign.message?.contains("gcp") == true, "\(String(describing: foreign.message))")

                // The directory appears: reachable and empty is Available (the first backup will create the store).
                _ = try FileSystem.makeDirectories(later, mode: 0o700)
                let fixed = try await harness.waitFor("'later' to be Available") {
                    try await harness.location("later").status.flatMap { $0.phase == .available ? $0 : nil }
                }
                #expect(fixed.message?.contains("empty") == true)
                // Validation keeps going.
                try await harness.waitFor("a later validation of default") { () -> Bool? in
                    let last = try await harness.location("default").status?.lastValidationTime
                    return (last ?? firstCheck) > firstCheck ? true : nil
                }
            }
        }
    }

    @Test("accessMode ReadOnly refuses backups and deletions, allows restores")
    func readOnly() async throws {
        try await ServerHarness.with { harness in
            let namespace = harness.namespaces[0]
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("before", namespace: namespace), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("before").phase == .completed)

                _ = try await harness.client.send(
                    .patch, BackupStorageLocation.resource.path(namespace: "velero", name: "default"),
                    body: Array(#"{"spec":{"accessMode":"ReadOnly"}}"#.utf8),
                    contentType: "application/merge-patch+json")

                try await harness.apply(
                    harness.backupManifest("refused", namespace: namespace), to: Backup.resource, namespace: "velero")
                let refused = try await harness.finishedBackup("refused")
                #expect(refused.phase == .failedValidation)
                let reasons = refused.status?.validationErrors ?? []
                #expect(reasons.contains { $0.contains("'default'") && $0.contains("ReadOnly") }, "\(reasons)")
                #expect(try await harness.storedBackup("refused") == nil)

                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"allowed"},\
                    "spec":{"backupName":"before","namespaceMapping":{"\(namespace)":"ro-restored"}}}
                    """, to: Restore.resource, namespace: "velero")
                #expect(try await harness.finishedRestore("allowed").phase == .completed)

                let request = try await harness.create(
                    DeleteBackupRequest(backupName: "before", backupUID: nil, namespace: "velero"))
                let processed = try await harness.waitFor("the deletion request to be processed") {
                    () -> DeleteBackupRequest? in
                    let object = try await harness.client.get(
                        DeleteBackupRequest.resource, namespace: "velero", name: request)
                    let decoded = try DeleteBackupRequest.decode(object.json)
                    return decoded.phase == .processed ? decoded : nil
                }
                #expect(processed.status?.errors?.contains { $0.contains("ReadOnly") } == true)
                #expect(try await harness.storedBackup("before") != nil)
                #expect(try await harness.backup("before")?.phase == .completed)
            }
        }
    }
}
