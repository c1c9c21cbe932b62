import Foundation

/// The executables `swift build` put beside the test bundle, for tests that run them as users do.
public enum BuiltProducts {
    /// What a finished run printed and returned.
    public struct Run: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
    }

    /// The path of the built executable `name` (e.g. "velero-cas").
    public static func path(_ name: String) -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs the executable (built here, or an absolute path) to its end and returns its status and output, waiting on
    /// a thread of its own: a test that waited on the cooperative pool (two threads on this machine) would stall
    /// every other async test in the process meanwhile, lease renewals and timeouts included. Standard error is read
    /// on another thread, so a child that fills one pipe while the other is being read cannot stall. `input`, when
    /// given, is the command's standard input (then closed).
    public static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        input: String? = nil
    ) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try runBlocking(name, arguments, environment: environment, directory: directory, input: input)
                    })
            }
        }
    }

    /// `run`, blocking the calling thread.
    static func runBlocking(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        input: String? = nil
    ) throws -> Run {
        let process = Process()
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.executableURL = URL(fileURLWithPath: name.hasPrefix("/") ? name : path(name))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let errorsRead = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var errData = Data()
        Thread.detachNewThread {
            errData = errors.fileHandleForReading.readDataToEndOfFile()
            errorsRead.signal()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            errors: String(decoding: errData, as: UTF8.self))
    }
}
