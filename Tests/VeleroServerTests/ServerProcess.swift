import Foundation
import TestSupport

/// The built `velero-cas` binary (beside the test bundle in the build directory), run as a user runs it.
enum ServerProcess {
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

    /// Runs the binary to its end (on a thread of its own, not on the cooperative pool).
    static func run(_ arguments: [String], environment: [String: String]) async throws -> BuiltProducts.Run {
        try await BuiltProducts.run("velero-cas", arguments, environment: environment)
    }
}

/// How the tests run `velero-cas server` as a process against a harness's cluster: its arguments (plus `extra`),
/// environment and log file.
struct ServerProcessSetup {
    let arguments: [String]
    let environment: [String: String]
    let log: String

    init(_ harness: ServerHarness, extra: [String] = []) throws {
        let kubeconfig = harness.temp.sub("kubeconfig")
        try harness.sim.writeKubeconfig(path: kubeconfig)
        environment = ["HOME": harness.temp.sub("home"), "VELERO_CAS_PASSWORD": "server-test-password"]
        arguments = ["server", "--kubeconfig", kubeconfig, "--namespace", "velero"] + extra
        log = harness.temp.sub("server.log")
    }

    func start() throws -> Process { try ServerProcess.start(arguments, environment: environment, log: log) }

    /// What the server processes wrote so far.
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

extension ServerHarness {
    /// Makes listing config maps (of `namespace`, and of every namespace) take `latency`, so that a signal sent to
    /// the server lands while a backup of `namespace` runs.
    func slowConfigMaps(_ namespace: String, by latency: Duration) {
        sim.addFault(.latency(latency, pathPrefix: "/api/v1/namespaces/\(namespace)/configmaps"))
        sim.addFault(.latency(latency, pathPrefix: "/api/v1/configmaps"))
    }
}
