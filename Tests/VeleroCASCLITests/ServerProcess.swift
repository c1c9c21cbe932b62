import Foundation
import KubeClient
import KubeSim
import TestSupport
import VeleroAPI

/// A served cluster with a `velero-cas server` child process against it (CRDs installed by the server, the
/// `velero` namespace, its `--store` serving the location "default"), and the kubeconfig the CLI uses.
final class ServerProcess: Sendable {
    static let password = "cli-server-test"
    let sim: KubeSimServer
    let temp: TemporaryDirectory
    let process: Process
    let client: KubeClient

    var kubeconfig: String { temp.sub("kubeconfig") }
    var store: String { temp.sub("store") }
    /// HOME in the scratch directory: a CLI that wrongly ran in process would use a store there, never the user's.
    var environment: [String: String] { ["VELERO_CAS_PASSWORD": Self.password, "HOME": temp.path] }

    private init(sim: KubeSimServer, temp: TemporaryDirectory, process: Process) {
        self.sim = sim
        self.temp = temp
        self.process = process
        client = KubeClient(configuration: ClusterConfiguration(server: sim.baseURL))
    }

    /// Starts both, waits until the server's presence Lease is there, runs `body`, and stops both.
    static func with<T>(_ body: (ServerProcess) async throws -> T) async throws -> T {
        let sim = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 2, objectsPerNamespace: 10)))
        let temp = try TemporaryDirectory("cli-server")
        defer { temp.remove() }
        _ = try await prepare(sim, temp)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = [
            "server", "--kubeconfig", temp.sub("kubeconfig"), "--namespace", "velero", "--install-crds", "--store",
            temp.sub("store"), "--log-level", "info",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["VELERO_CAS_PASSWORD": password]) { $1 }
        _ = FileManager.default.createFile(atPath: temp.sub("server.log"), contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: temp.sub("server.log")))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let server = ServerProcess(sim: sim, temp: temp, process: process)
        do {
            try await server.waitFor("the server's presence Lease") { try await server.lease() }
            let result = try await body(server)
            server.stop()
            try await sim.shutdown()
            return result
        } catch {
            server.stop()
            try? await sim.shutdown()
            let text = (try? String(contentsOfFile: temp.sub("server.log"), encoding: .utf8)) ?? ""
            throw ServerFailure(error: error, log: String(text.suffix(4000)))
        }
    }

    /// Writes the kubeconfig into `temp` and creates the `velero` namespace; returns a client of the cluster.
    static func prepare(_ sim: KubeSimServer, _ temp: TemporaryDirectory) async throws -> KubeClient {
        try sim.writeKubeconfig(path: temp.sub("kubeconfig"))
        let client = KubeClient(configuration: ClusterConfiguration(server: sim.baseURL))
        _ = try await client.create(
            APIResource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false),
            namespace: nil, json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"velero"}}"#.utf8))
        return client
    }

    struct ServerFailure: Error, CustomStringConvertible {
        var error: any Error
        var log: String
        var description: String { "\(error)\n--- server log (end):\n\(log)" }
    }

    /// SIGTERM, then waits for the exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// The CLI against this cluster (the kubeconfig appended).
    func cli(_ arguments: [String]) async throws -> CLIRunner.Result {
        try await CLIRunner.run(arguments + ["--kubeconfig", kubeconfig], environment: environment)
    }

    func lease() async throws -> KubeObject? {
        do {
            return try await client.get(ServerPresence.resource, namespace: "velero", name: ServerPresence.leaseName)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    func object<K: VeleroKind>(_ name: String, as: K.Type) async throws -> K? {
        do {
            return try K.decode(try await client.get(K.resource, namespace: "velero", name: name).json)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    @discardableResult
    func waitFor<T>(_ what: String, seconds: Double = 30, _ condition: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TimedOut(what: what)
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }
}
