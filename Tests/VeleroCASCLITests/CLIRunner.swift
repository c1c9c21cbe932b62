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
        let run = try BuiltProducts.run("velero-cas", arguments, environment: environment, directory: directory)
        return Result(status: run.status, output: run.output, errors: run.errors)
    }
}
