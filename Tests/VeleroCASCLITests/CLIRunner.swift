import Foundation
import TestSupport

/// Runs the built `velero-cas` binary (it sits beside the test bundle in the build directory).
struct CLIRunner {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static var binary: String { BuiltProducts.path("velero-cas") }

    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws
        -> Result
    {
        let process = Process()
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            errors: String(decoding: errData, as: UTF8.self))
    }
}
