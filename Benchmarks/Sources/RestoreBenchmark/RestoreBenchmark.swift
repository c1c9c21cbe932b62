import BenchmarkSupport
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import SystemIO

/// Restore throughput: a generated cluster of about 20,000 objects is collected once, then restored into a fresh,
/// empty kube-sim twice in the same run: one object at a time (as Velero applies them) and with velero-cas's tiered
/// parallel apply.
///
///     swift build -c release && swift run -c release --package-path Benchmarks RestoreBenchmark
@main
struct RestoreBenchmark {
    static func main() async throws {
        let options = try ClusterBenchmarkOptions.setUp(
            namespaces: 200, objectsPerNamespace: 100, workdir: "/tmp/velero-cas-restore-bench")
        let (namespaces, perNamespace, simPath, workdir) = (
            options.namespaces, options.objectsPerNamespace, options.kubeSim, options.workdir
        )
        log("starting the source cluster: \(namespaces) namespaces × \(perNamespace) objects")
        let source = try SimProcess.start(
            path: simPath,
            arguments: [
                "--port", "0", "--generate-namespaces", String(namespaces), "--generate-objects", String(perNamespace),
                "--kubeconfig-out", workdir + "/source.kubeconfig",
            ])
        defer { source.stop() }
        let sourceClient = KubeClient(
            configuration: try ClusterConfiguration.load(
                path: workdir + "/source.kubeconfig", context: nil, environment: [:]),
            qps: 0, burst: 0)
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: workdir + "/store", create: true))
        let (manifest, _) = try await ResourceCollector(client: sourceClient, repository: repository)
            .collect(name: "bench", filter: ResourceFilter())

        var rows: [[String]] = []
        // Without latency both runs are CPU-bound on the two cores kube-sim shares; a real API server spends
        // milliseconds on every write (an etcd round trip), which the second pass injects.
        for latency in [0, 5] {
            var seconds: [Double] = []
            for (label, width) in [
                ("serial apply (one object at a time, as Velero)", 1), ("velero-cas tiered parallel apply", 16),
            ] {
                let config = workdir + "/target-\(latency)-\(width).kubeconfig"
                let target = try SimProcess.start(
                    path: simPath, arguments: ["--port", "0", "--kubeconfig-out", config])
                defer { target.stop() }
                let client = KubeClient(
                    configuration: try ClusterConfiguration.load(path: config, context: nil, environment: [:]), qps: 0,
                    burst: 0)
                if latency > 0 {
                    _ = try await client.send(.post, "/sim/faults", body: Array(#"{"latencyMs":\#(latency)}"#.utf8))
                }
                log("restoring (\(latency) ms per request): \(label)")
                let restorer = ResourceRestorer(
                    client: client, reader: ResourceReader(repository: repository), width: width)
                let result = try await restorer.restore(manifest, options: RestoreOptions())
                guard result.phase == .completed else {
                    throw BenchError("restore \(result.phase): \(result.errors.prefix(3))")
                }
                seconds.append(result.seconds)
                let rate = String(format: "%.0f objects/s", Double(result.count(.created)) / result.seconds)
                rows.append(["\(label), \(latency) ms/request", rate, width > 1 ? "≥ 2,000 objects/s" : ""])
            }
            rows.append([
                "parallel vs serial, \(latency) ms/request", String(format: "%.1fx", seconds[0] / seconds[1]), "≥ 5x",
            ])
        }
        print(
            "velero-cas restore benchmark: \(manifest.objectCount) objects in \(manifest.streams.count) resource types"
                + " (kube-sim shares the same cores)")
        for row in rows {
            print(
                row[0].padding(toLength: 64, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 22, withPad: " ", startingAt: 0) + row[2])
        }
    }

}
