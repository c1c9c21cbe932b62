import Foundation
import TestSupport
import Testing

/// The demo serves its cluster with the `kube-sim` executable as a child process (velero-cas does not link the
/// simulator): found beside velero-cas or where told, refused clearly when missing, and never left running.
@Suite("The demo's kube-sim child process")
struct DemoClusterTests {
    /// The pid the demo reports for its kube-sim ("(kube-sim, pid N)").
    static func kubeSimPID(_ output: String) -> Int32? {
        guard let match = output.firstMatch(of: #/\(kube-sim, pid (\d+)\)/#) else { return nil }
        return Int32(match.1)
    }

    /// Whether `pid` is a live process (a zombie waiting to be reaped counts as gone).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Whether `pid` ends within `limit`, polled on a thread of its own.
    static func gone(_ pid: Int32, within limit: Duration) async -> Bool {
        await onThread {
            let deadline = ContinuousClock.now + limit
            while isRunning(pid) {
                guard ContinuousClock.now < deadline else { return false }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return true
        }
    }

    /// `body`'s result, run on a thread of its own: a poll that must see a short-lived process cannot wait for a
    /// busy cooperative pool, and must not hold one of its threads either.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    @Test("a missing kube-sim is refused, naming where it was looked for and how to build it")
    func missing() async throws {
        let temp = try TemporaryDirectory("demo-no-sim")
        defer { temp.remove() }
        let byFlag = try await CLIRunner.run(
            ["demo", "--megabytes", "1", "--workdir", temp.sub("demo"), "--kube-sim", temp.sub("nowhere/kube-sim")])
        #expect(byFlag.status == 1)
        #expect(byFlag.errors.contains("'\(temp.sub("nowhere/kube-sim"))' (--kube-sim)"), "\(byFlag.errors)")
        #expect(byFlag.errors.contains("swift build -c release --product kube-sim"), "\(byFlag.errors)")
        let byVariable = try await CLIRunner.run(
            ["demo", "--megabytes", "1", "--workdir", temp.sub("demo")],
            environment: ["VELERO_CAS_KUBE_SIM": temp.path])
        #expect(byVariable.status == 1)
        #expect(byVariable.errors.contains("'\(temp.path)' (VELERO_CAS_KUBE_SIM)"), "\(byVariable.errors)")
    }

    @Test("a kube-sim that exits before serving fails the demo with its status and log")
    func exitsEarly() async throws {
        let temp = try TemporaryDirectory("demo-sim-fails")
        defer { temp.remove() }
        let script = temp.sub("kube-sim")
        try "#!/bin/sh\necho 'cannot bind: address in use' >&2\nexit 3\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        #expect(chmod(script, 0o755) == 0)
        let result = try await CLIRunner.run(
            ["demo", "--megabytes", "1", "--workdir", temp.sub("demo"), "--kube-sim", script])
        #expect(result.status == 1)
        #expect(result.errors.contains("did not start serving (it exited with status 3)"), "\(result.errors)")
        #expect(result.errors.contains("cannot bind: address in use"), "\(result.errors)")
    }

    /// The pid of `parent`'s child process named `name`, once there is one (nil after `limit`).
    static func child(of parent: Int32, named name: String, within limit: Duration) -> Int32? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry),
                    let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                    let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
                else { continue }
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                if stat[stat.index(after: open)..<close] == name, fields.count > 1, Int32(fields[1]) == parent {
                    return pid
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    @Test("SIGINT to velero-cas in the middle of the demo stops its kube-sim too")
    func interrupted() async throws {
        let temp = try TemporaryDirectory("demo-sigint")
        defer { temp.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = ["demo", "--megabytes", "4", "--namespaces", "3", "--workdir", temp.sub("demo")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Found and signalled from a thread of its own: the demo of 4 MiB is over in seconds, and a poll waiting for
        // a busy cooperative pool once saw it only after its kube-sim had gone.
        let demo = process.processIdentifier
        let found = await Self.onThread { () -> Int32? in
            guard let kubeSim = Self.child(of: demo, named: "kube-sim", within: .seconds(60)) else { return nil }
            // Serving, and the demo under way.
            Thread.sleep(forTimeInterval: 0.5)
            kill(demo, SIGINT)
            return kubeSim
        }
        let kubeSim = try #require(found)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(process.terminationStatus == 130)
        #expect(await Self.gone(kubeSim, within: .seconds(20)), "kube-sim \(kubeSim) still runs after the demo stopped")
    }
}
