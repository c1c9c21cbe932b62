import Foundation
import Synchronization

/// Runs an exec's command as a local process on a thread of its own (its waits block): in the pod's directory, in
/// a process group of its own so that `kill` ends the command and whatever it started, with stdout and stderr
/// read as they come. Reports output pieces, then the real server's `Status` for how it ended.
final class ExecProcess: Sendable {
    enum Event: Sendable {
        case output(channel: UInt8, [UInt8])
        /// The `Status` JSON for the error channel.
        case finished([UInt8])
    }

    private let plan: ExecPlan
    private let report: @Sendable (Event) -> Void
    /// The running process's id (its process group's, too), and whether it was asked to stop.
    private let state = Mutex<(pid: Int32?, killed: Bool)>((nil, false))

    init(plan: ExecPlan, report: @escaping @Sendable (Event) -> Void) {
        self.plan = plan
        self.report = report
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "kube-sim-exec"
        thread.start()
    }

    /// Kills the command's process group (SIGKILL), now or as soon as it has started.
    func kill() {
        let pid = state.withLock { state -> Int32? in
            state.killed = true
            return state.pid
        }
        if let pid { _ = Foundation.kill(-pid, SIGKILL) }
    }

    private func run() {
        let name = plan.command[0]
        guard let executable = Self.resolve(name) else {
            report(.finished(Self.failure("exec: \"\(name)\": executable file not found in $PATH", exitCode: nil)))
            return
        }
        let process = Process()
        // Foundation starts the child as the leader of a process group of its own: `kill` ends the group.
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(plan.command.dropFirst())
        try? FileManager.default.createDirectory(atPath: plan.podDirectory, withIntermediateDirectories: true)
        process.currentDirectoryURL = URL(fileURLWithPath: plan.podDirectory)
        let inherited = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG"].contains($0.key) }
        process.environment = inherited.merging(plan.environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            report(.finished(Self.failure("exec: \"\(name)\": \(error.localizedDescription)", exitCode: nil)))
            return
        }
        let killedEarly = state.withLock { state -> Bool in
            state.pid = process.processIdentifier
            return state.killed
        }
        if killedEarly { kill() }
        let stderrDone = DispatchSemaphore(value: 0)
        let report = self.report
        let stderrReader = Thread {
            Self.pump(stderr.fileHandleForReading, channel: 2, report)
            stderrDone.signal()
        }
        stderrReader.start()
        Self.pump(stdout.fileHandleForReading, channel: 1, report)
        process.waitUntilExit()
        stderrDone.wait()
        let code =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        if code == 0 {
            report(.finished(Array(#"{"metadata":{},"status":"Success"}"#.utf8)))
        } else {
            let command = plan.command.joined(separator: " ")
            report(
                .finished(
                    Self.failure(
                        "command terminated with non-zero exit code: error executing command [\(command)], exit code \(code)",
                        exitCode: code)))
        }
    }

    private static func pump(_ handle: FileHandle, channel: UInt8, _ report: @Sendable (Event) -> Void) {
        while true {
            let data = handle.availableData
            if data.isEmpty { return }
            report(.output(channel: channel, Array(data)))
        }
    }

    /// The Status of a command that failed: with its exit code (reason NonZeroExitCode, the code in
    /// `details.causes`) or without one (it could not be started: InternalError).
    static func failure(_ message: String, exitCode: Int32?) -> [UInt8] {
        var status: [String: Any] = ["metadata": [String: Any](), "status": "Failure", "message": message]
        if let exitCode {
            status["reason"] = "NonZeroExitCode"
            status["details"] = ["causes": [["reason": "ExitCode", "message": String(exitCode)]]]
        } else {
            status["reason"] = "InternalError"
        }
        return Array((try? JSONSerialization.data(withJSONObject: status)) ?? Data())
    }

    /// The command's program: a path as given, else the first match in kube-sim's PATH.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
