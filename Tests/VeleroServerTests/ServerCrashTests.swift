import Collectors
import Foundation
import KubeClient
import Restorer
import Testing
import VeleroAPI
import VeleroServer

@Suite("velero-cas server process killed mid-backup", .serialized)
struct ServerCrashTests {
    @Test("SIGKILL of the server mid-backup: after a restart that backup is Failed, the others intact and restorable")
    func killMidBackup() async throws {
        try await ServerHarness.with { harness in
            let setup = try ServerProcessSetup(
                harness, extra: ["--backup-sync-period", "1s", "--store-validation-frequency", "1s"])
            func serverLog() -> String { setup.output }

            var server = try setup.start()
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
            try await harness.apply(
                harness.backupManifest("kept", namespace: harness.namespaces[0]), to: Backup.resource,
                namespace: "velero")
            let kept = try await harness.finishedBackup("kept", seconds: 60)
            #expect(kept.phase == .completed, "\(serverLog())")

            // The next backup lists config maps slowly (10 s: on a loaded machine 3 s passed before the kill), so
            // the kill lands while it runs.
            harness.slowConfigMaps(harness.namespaces[1], by: .seconds(10))
            try await harness.apply(
                harness.backupManifest("victim", namespace: harness.namespaces[1]), to: Backup.resource,
                namespace: "velero")
            try await harness.waitFor("the backup to start", seconds: 60) {
                try await harness.backup("victim")?.phase == .inProgress ? true : nil
            }
            try await Task.sleep(for: .milliseconds(500))
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            #expect(server.terminationReason == .uncaughtSignal)
            harness.sim.clearFaults()
            #expect(try await harness.backup("victim")?.phase == .inProgress, "the kill left it running")

            server = try setup.start()
            let victim = try await harness.finishedBackup("victim", seconds: 60)
            #expect(victim.phase == .failed, "\(serverLog())")
            #expect(victim.status?.failureReason?.contains("stopped") == true)
            // Nothing the killed backup left behind disturbs the completed one.
            #expect(try await harness.backup("kept")?.phase == .completed)
            #expect(try await harness.storedBackup("kept")?.phase == .completed)
            try await harness.apply(
                """
                {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"after-crash"},\
                "spec":{"backupName":"kept","namespaceMapping":{"\(harness.namespaces[0])":"after-crash"}}}
                """, to: Restore.resource, namespace: "velero")
            let restore = try await harness.waitFor("the restore to finish", seconds: 60) {
                let restore = try await harness.restore("after-crash")
                return restore.phase.isFinal ? restore : nil
            }
            #expect(restore.phase == .completed, "\(serverLog())")
            // A new backup works after the restart.
            try await harness.apply(
                harness.backupManifest("after", namespace: harness.namespaces[1]), to: Backup.resource,
                namespace: "velero")
            #expect(try await harness.finishedBackup("after", seconds: 60).phase == .completed, "\(serverLog())")
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
    }
}
