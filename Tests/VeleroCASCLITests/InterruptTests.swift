import Foundation
import KubeSim
import SystemIO
import TestSupport
import Testing

/// Ctrl-C in the middle of `backup create` and `restore create` against a slow API server: the command stops within a
/// bounded time with status 130, releases its store lock, commits nothing as done, and the store stays usable.
@Suite("SIGINT during backup create and restore create")
struct InterruptTests {
    /// Starts the CLI, sends `signal` from a thread of its own once the store holds a lock, and waits for the exit.
    /// Returns how long the process took to exit after the signal, and its status.
    static func interrupt(
        _ arguments: [String], locks: String, signal: Int32 = SIGINT, settle: Duration = .milliseconds(300)
    ) async throws -> (stoppedAfter: Duration, status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let stoppedAfter = await CrashTests.signalOnceLocked(process, locks: locks, signal: signal, settle: settle)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (stoppedAfter, process.terminationStatus, text)
    }

    static func lockFiles(_ locks: String) throws -> [String] {
        try FileSystem.contentsOfDirectory(locks).filter { $0.hasSuffix(".json") }
    }

    static func phases(_ arguments: [String]) async throws -> [String: String] {
        let listed = try await CLIRunner.run(arguments + ["-o", "json"])
        let records = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]] ?? []
        var result: [String: String] = [:]
        for record in records {
            if let name = record["name"] as? String { result[name] = record["phase"] as? String }
        }
        return result
    }

    @Test("SIGINT stops a backup create whose LISTs are slow")
    func backupCreate() async throws {
        let temp = try TemporaryDirectory("sigint-backup")
        defer { temp.remove() }
        let cluster = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 3, objectsPerNamespace: 20)))
        try cluster.writeKubeconfig(path: temp.sub("kubeconfig"))
        let store = ["--store", temp.sub("store")]
        #expect(try await CLIRunner.run(["store", "init"] + store).status == 0)
        // Every LIST takes 4 s: the backup is mid-way for seconds, with requests in flight.
        cluster.addFault(.latency(.seconds(4), verb: "list"))
        let (stoppedAfter, status, errors) = try await Self.interrupt(
            ["backup", "create", "slow", "--kubeconfig", temp.sub("kubeconfig")] + store, locks: temp.sub("store/locks")
        )
        #expect(status == 130, "\(errors)")
        // Well within one slowed request: the requests in flight were cancelled, not waited out.
        #expect(stoppedAfter < .seconds(10), "stopped \(stoppedAfter) after SIGINT")
        #expect(try Self.lockFiles(temp.sub("store/locks")) == [], "the lock was released")
        await #expect(try Self.phases(["backup", "get"] + store)["slow"] != "Completed", "nothing committed as done")

        // The store is usable at once and clean; the next backup completes.
        let verify = try await CLIRunner.run(["verify", "--read-data"] + store)
        #expect(verify.status == 0, "\(verify.output) \(verify.errors)")
        cluster.clearFaults()
        let next = try await CLIRunner.run(
            ["backup", "create", "after", "--kubeconfig", temp.sub("kubeconfig")] + store)
        #expect(next.status == 0, "\(next.errors)")
        await #expect(try Self.phases(["backup", "get"] + store)["after"] == "Completed")
        let gc = try await CLIRunner.run(["gc", "--orphans"] + store)
        #expect(gc.status == 0, "\(gc.errors)")
        try await cluster.shutdown()
    }

    @Test("SIGINT stops a restore create whose creates are slow")
    func restoreCreate() async throws {
        let temp = try TemporaryDirectory("sigint-restore")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 3, objectsPerNamespace: 20)))
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        try source.writeKubeconfig(path: temp.sub("a"))
        try target.writeKubeconfig(path: temp.sub("b"))
        let store = ["--store", temp.sub("store")]
        let backup = try await CLIRunner.run(["backup", "create", "nightly", "--kubeconfig", temp.sub("a")] + store)
        #expect(backup.status == 0, "\(backup.errors)")
        // Every create takes 4 s: the restore is mid-way for seconds.
        target.addFault(.latency(.seconds(4), verb: "create"))
        let (stoppedAfter, status, errors) = try await Self.interrupt(
            ["restore", "create", "slow", "--from-backup", "nightly", "--kubeconfig", temp.sub("b")] + store,
            locks: temp.sub("store/locks"))
        #expect(status == 130, "\(errors)")
        // Well within one slowed request: the requests in flight were cancelled, not waited out.
        #expect(stoppedAfter < .seconds(10), "stopped \(stoppedAfter) after SIGINT")
        #expect(try Self.lockFiles(temp.sub("store/locks")) == [], "the lock was released")
        await #expect(try Self.phases(["restore", "get"] + store)["slow"] != "Completed", "nothing committed as done")

        let verify = try await CLIRunner.run(["verify", "--read-data"] + store)
        #expect(verify.status == 0, "\(verify.output) \(verify.errors)")
        target.clearFaults()
        let again = try await CLIRunner.run(
            [
                "restore", "create", "again", "--from-backup", "nightly", "--kubeconfig", temp.sub("b"),
                "--existing-resource-policy", "update",
            ] + store)
        #expect(again.status == 0, "\(again.output) \(again.errors)")
        let gc = try await CLIRunner.run(["gc", "--orphans"] + store)
        #expect(gc.status == 0, "\(gc.errors)")
        try await source.shutdown()
        try await target.shutdown()
    }
}
