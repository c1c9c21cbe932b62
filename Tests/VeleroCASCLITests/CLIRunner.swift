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

    /// `input`, when given, is the command's standard input (then closed).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, input: String? = nil
    ) async throws -> Result {
        let run = try await BuiltProducts.run(
            "velero-cas", arguments, environment: environment, directory: directory, input: input)
        return Result(status: run.status, output: run.output, errors: run.errors)
    }
}
