import ArgumentParser
import Foundation
import KubeClient
import SystemIO

/// `--kubeconfig` and `--kubecontext`, as kubectl and Velero take them.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).") var kubeconfig: String?
    @Option(help: "The kubeconfig context to use (default: its current-context).") var kubecontext: String?
    @Option(
        help: ArgumentHelp(
            "Most requests per second to the API server (default: no fixed rate).",
            discussion:
                "Without it, requests in flight adapt to the server: they grow while it keeps up and halve when it answers 429."
        ))
    var clientQps: Double?
    @Option(help: "Requests allowed in a burst above --client-qps (default: the same as --client-qps).")
    var clientBurst: Int?

    func validate() throws {
        if let clientQps, !(clientQps > 0 && clientQps.isFinite) {
            throw ValidationError("--client-qps '\(clientQps)' must be a positive number of requests per second")
        }
        if let clientBurst {
            guard clientBurst >= 1 else { throw ValidationError("--client-burst '\(clientBurst)' must be at least 1") }
            guard clientQps != nil else { throw ValidationError("--client-burst \(clientBurst) needs --client-qps") }
        }
    }

    /// A client for the chosen cluster; the kubeconfig files are read on the blocking pool.
    func client() async throws -> KubeClient {
        let (kubeconfig, kubecontext) = (kubeconfig, kubecontext)
        let configuration = try await BlockingPool.shared.run {
            try ClusterConfiguration.load(
                path: kubeconfig, context: kubecontext, environment: ProcessInfo.processInfo.environment)
        }
        guard let clientQps else { return KubeClient(configuration: configuration) }
        return KubeClient(
            configuration: configuration, qps: clientQps, burst: clientBurst ?? max(1, Int(clientQps.rounded(.up))))
    }
}

/// `--parallel-volumes`: a few volumes at once keeps memory bounded; one is allowed, hundreds are not.
func validateParallelVolumes(_ value: Int) throws {
    guard (1...32).contains(value) else { throw ValidationError("--parallel-volumes must be between 1 and 32") }
}

/// Comma-separated list options, as Velero's flags take them.
func commaList(_ value: String?) -> [String] {
    value.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
}

/// A list option given any number of times, each time comma-separated (Velero's string-array flags):
/// `--include-namespaces a,b --include-namespaces c` is a, b and c.
func commaList(_ values: [String]) -> [String] { values.flatMap { commaList($0) } }

/// `k=v,k2=v2` into a dictionary, refusing malformed pairs.
func keyValues(_ value: String?, flag: String) throws -> [String: String] {
    var result: [String: String] = [:]
    for pair in commaList(value) {
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("\(flag) '\(pair)' must be key=value") }
        result[parts[0]] = parts[1]
    }
    return result
}
