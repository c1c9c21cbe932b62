import Foundation
import TestSupport

/// The built `velero-cas` binary (beside the test bundle in the build directory), run as a user runs it.
enum ServerProcess {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static var binary: String { BuiltProducts.path("velero-cas") }

    /// Starts the binary with its output going to `log` (a file path), and returns the running process.
    static func start(_ arguments: [String], environment: [String: String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Runs the binary to its end on a thread of its own (the pipes are read there, not on the cooperative pool).
    static func run(_ arguments: [String], environment: [String: String]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: binary)
                    process.arguments = arguments
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                    let output = Pipe()
                    let errors = Pipe()
                    process.standardOutput = output
                    process.standardError = errors
                    try process.run()
                    let errData = Thread.detachNewThreadReading(errors)
                    let outData = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(
                        returning: Result(
                            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                            errors: String(decoding: errData(), as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}

extension Thread {
    /// Reads the pipe to its end on another thread (so a full stderr pipe cannot block the child); the returned
    /// function waits for the data.
    static func detachNewThreadReading(_ pipe: Pipe) -> () -> Data {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var data = Data()
        Thread.detachNewThread {
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        return {
            done.wait()
            return data
        }
    }
}
