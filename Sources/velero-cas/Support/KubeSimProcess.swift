import Foundation
import SystemIO

#if canImport(Glibc)
    import Glibc
#endif

/// The demo's cluster: the `kube-sim` executable run as a child process, so that the simulator is not linked into
/// `velero-cas`. Found through `--kube-sim`, else `VELERO_CAS_KUBE_SIM`, else beside the running `velero-cas`.
/// It is stopped by `stop()`; should this process die without it (SIGKILL, a crash), kube-sim still goes, since it
/// stops when its standard input (a pipe from here) closes.
final class KubeSimProcess: Sendable {
    /// Where the executable is looked for when neither the flag nor the variable names it.
    static let environmentVariable = "VELERO_CAS_KUBE_SIM"
    /// How long generation and start-up may take before the demo gives up.
    static let startTimeout = Duration.seconds(300)

    let process: Process
    let input: Pipe
    /// "http://127.0.0.1:PORT".
    let baseURL: String
    /// Objects kube-sim generated (the synthetic namespaces' own), as it reported them.
    let generatedObjects: Int?
    let log: String

    private init(process: Process, input: Pipe, baseURL: String, generatedObjects: Int?, log: String) {
        self.process = process
        self.input = input
        self.baseURL = baseURL
        self.generatedObjects = generatedObjects
        self.log = log
    }

    var pid: Int32 { process.processIdentifier }

    /// The executable to run: `flag`, else the environment's `VELERO_CAS_KUBE_SIM`, else `kube-sim` beside this
    /// executable. Throws when it is not an executable file, saying which was tried and how to get one.
    static func executable(flag: String?, environment: [String: String]) throws(KubeSimProcessError) -> String {
        let (path, source): (String, String)
        if let flag {
            (path, source) = (flag, "--kube-sim")
        } else if let variable = environment[environmentVariable], !variable.isEmpty {
            (path, source) = (variable, environmentVariable)
        } else {
            let running =
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
            let beside = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("kube-sim")
            (path, source) = (beside.path, "beside velero-cas")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: path)
        else { throw .notFound(path: path, source: source) }
        return path
    }

    /// Starts kube-sim with `arguments` (its stderr into `log`) and returns once it serves.
    static func start(executable: String, arguments: [String], log: String) async throws -> KubeSimProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + ["--stop-on-stdin-close"]
        let input = Pipe()
        let output = Pipe()
        do {
            guard FileManager.default.createFile(atPath: log, contents: nil) else {
                throw SystemError("create", path: log)
            }
            // The child writes into its own copy of the descriptor; this one closes once it has started.
            let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            defer { try? logHandle.close() }
            process.standardInput = input
            process.standardOutput = output
            process.standardError = logHandle
            try process.run()
        } catch {
            throw KubeSimProcessError.cannotStart(executable: executable, reason: "\(error)")
        }
        let descriptor = output.fileHandleForReading.fileDescriptor
        let deadline = ContinuousClock.now + startTimeout
        let line = try await BlockingPool.shared.run { try readListeningLine(descriptor, until: deadline) }
        guard let line, let url = line.split(separator: " ").last.map(String.init), url.hasPrefix("http") else {
            let timedOut = ContinuousClock.now >= deadline
            let started = KubeSimProcess(process: process, input: input, baseURL: "", generatedObjects: nil, log: log)
            await started.stop()
            throw KubeSimProcessError.notServing(
                executable: executable, status: timedOut ? nil : process.terminationStatus, log: log, tail: tail(log))
        }
        return KubeSimProcess(
            process: process, input: input, baseURL: url, generatedObjects: generated(log), log: log)
    }

    /// SIGTERM and the end of its standard input; waits (at most 10 s, then SIGKILL) until it has exited.
    func stop() async {
        if process.isRunning { process.terminate() }
        try? input.fileHandleForWriting.close()
        let process = process
        _ = try? await BlockingPool.shared.run {
            let deadline = ContinuousClock.now + .seconds(10)
            while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Reads kube-sim's standard output up to its "kube-sim listening on URL" line; nil when the output ends (it
    /// exited) or the deadline passes first. Blocking: run through `BlockingPool`.
    private static func readListeningLine(_ descriptor: Int32, until deadline: ContinuousClock.Instant) throws
        -> String?
    {
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var polled = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&polled, 1, 500)
            if ready < 0 && errno != EINTR { throw SystemError("poll", path: "kube-sim's output") }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw SystemError("read", path: "kube-sim's output")
            }
            if count == 0 { return nil }
            seen += buffer.prefix(count)
            let text = String(decoding: seen, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }) {
                return String(line)
            }
        }
        return nil
    }

    /// The generated object count from kube-sim's "kube-sim generated N objects" line, when it wrote one.
    private static func generated(_ log: String) -> Int? {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("kube-sim generated ") })
        else { return nil }
        return Int(line.split(separator: " ")[2])
    }

    private static func tail(_ log: String) -> String {
        String(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(2000))
    }
}

/// Why the demo's cluster could not be served.
enum KubeSimProcessError: Error, CustomStringConvertible {
    case notFound(path: String, source: String)
    case cannotStart(executable: String, reason: String)
    /// It exited (with `status`) or did not serve in time (no status) before saying it listens.
    case notServing(executable: String, status: Int32?, log: String, tail: String)

    var description: String {
        switch self {
        case .notFound(let path, let source):
            "the demo serves its cluster with the kube-sim executable, and there is none at '\(path)' (\(source)): "
                + "build it with 'swift build -c release --product kube-sim' (scripts/demo.sh does), or give its path "
                + "with --kube-sim or \(KubeSimProcess.environmentVariable)"
        case .cannotStart(let executable, let reason): "cannot start \(executable): \(reason)"
        case .notServing(let executable, let status, let log, let tail):
            "\(executable) did not start serving"
                + (status.map { " (it exited with status \($0))" } ?? " within \(KubeSimProcess.startTimeout)")
                + "; its log \(log) ends with:\n\(tail)"
        }
    }
}
