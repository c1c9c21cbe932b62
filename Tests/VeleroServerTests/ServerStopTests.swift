import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("velero-cas server process stopped by SIGTERM mid-backup", .serialized)
struct ServerStopTests {
    @Test("SIGTERM mid-backup: the running backup finishes (or is marked Failed), the store lock is released")
    func sigtermMidBackup() async throws {
        try await ServerHarness.with { harness in
            let setup = try ServerProcessSetup(harness)
            func serverLog() -> String { setup.output }
            let server = try setup.start()
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }

            // Config maps are listed slowly, so the signal lands while the backup holds its lock.
            harness.slowConfigMaps(harness.namespaces[0], by: .seconds(5))
            try await harness.apply(
                harness.backupManifest("stopped", namespace: harness.namespaces[0]), to: Backup.resource,
                namespace: "velero")
            try await harness.waitFor("the backup to hold its store lock", seconds: 120) {
                // The store is made by this first backup. Its lock objects are plain files, listed here without
                // opening the store (whose key derivation, on a loaded machine, could outlast the lock's window).
                let locks = try? FileManager.default.contentsOfDirectory(atPath: harness.storePath + "/locks")
                return locks?.contains { !$0.hasPrefix(".") } == true ? true : nil
            }
            let signalled = ContinuousClock.now
            kill(server.processIdentifier, SIGTERM)
            while server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            let took = ContinuousClock.now - signalled
            harness.sim.clearFaults()
            #expect(took < .seconds(12), "\(took): \(serverLog())")
            #expect(try await harness.repository().store.listAll(prefix: "locks/").isEmpty, "\(serverLog())")
            // Never left InProgress: the object and the store agree on how it ended.
            let backup = try #require(try await harness.backup("stopped"))
            #expect(backup.phase == .completed || backup.phase == .failed, "\(backup.phase): \(serverLog())")
            let stored = try await harness.storedBackup("stopped")
            #expect((stored?.phase == .completed) == (backup.phase == .completed), "\(String(describing: stored))")
        }
    }
}
