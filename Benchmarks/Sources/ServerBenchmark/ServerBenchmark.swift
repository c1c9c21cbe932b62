import BenchmarkSupport
import Foundation
import KubeClient
import VeleroAPI

/// The cost of the server: the same whole-cluster backup made by `velero-cas backup create --local` (in the CLI's
/// process) and by `velero-cas backup create --wait` through a running `velero-cas server` (a Backup object the
/// controller processes and writes status to), each into a fresh store, against one kube-sim process, with the
/// binary's production defaults. Each round runs both; the best of each counts. Also reported: the API writes the
/// controller makes for one backup (status PATCHes; the target is a count independent of the item count).
///
///     swift build -c release && swift run -c release --package-path Benchmarks ServerBenchmark
///     # options: --namespaces 1000 --objects-per-namespace 100 --rounds 2 --cli PATH --kube-sim PATH --workdir DIR
@main
struct ServerBenchmark {
    static let password = "server-benchmark"

    static func main() async throws {
        let options = try ClusterBenchmarkOptions.setUp(
            namespaces: 1000, objectsPerNamespace: 100, workdir: "/tmp/velero-cas-server-bench")
        let workdir = options.workdir
        log("starting kube-sim with \(options.namespaces) namespaces × \(options.objectsPerNamespace) objects")
        let sim = try SimProcess.start(
            path: options.kubeSim,
            arguments: [
                "--port", "0", "--token", "bench-token=admin", "--generate-namespaces", String(options.namespaces),
                "--generate-objects", String(options.objectsPerNamespace), "--seed", "1", "--kubeconfig-out",
                workdir + "/kubeconfig",
            ])
        defer { sim.stop() }
        let kubeconfig = workdir + "/kubeconfig"
        let client = KubeClient(
            configuration: try ClusterConfiguration.load(path: kubeconfig, context: nil, environment: [:]))
        _ = try await client.create(
            APIResource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false),
            namespace: nil, json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"velero"}}"#.utf8))
        let runner = CLI(path: options.cli, kubeconfig: kubeconfig, environment: ["VELERO_CAS_PASSWORD": password])

        var local: [Run] = []
        var server: [Run] = []
        for round in 1...options.rounds {
            log("round \(round): backup in process (--local)")
            local.append(try await runner.localBackup("local-\(round)", store: "\(workdir)/store-local-\(round)"))
            log("round \(round): backup through velero-cas server")
            server.append(
                try await ServerRun(runner: runner, client: client, workdir: workdir)
                    .backup("server-\(round)", store: "\(workdir)/store-server-\(round)"))
        }
        let bestLocal = local.min { $0.seconds < $1.seconds }!
        let bestServer = server.min { $0.seconds < $1.seconds }!
        print(
            "velero-cas server benchmark: whole-cluster backup of \(bestLocal.items) objects (\(options.namespaces) namespaces), best of \(options.rounds) rounds, kube-sim and the server share the same cores"
        )
        let rows = [
            ["backup create --local", String(format: "%.2f s", bestLocal.seconds), ""],
            ["backup create --wait through the server", String(format: "%.2f s", bestServer.seconds), ""],
            [
                "through the server vs in process", String(format: "%.2fx", bestServer.seconds / bestLocal.seconds),
                "≤ 1.2x",
            ],
            [
                "controller status writes (PATCH) per backup",
                server.map { "\($0.statusWrites)" }.joined(separator: ", "),
                "independent of items (≤ 2 + 1/s)",
            ],
            [
                "all API writes during the backup", server.map { "\($0.allWrites)" }.joined(separator: ", "),
                "incl. the CLI's create, Lease renewals",
            ],
        ]
        for row in rows {
            print(
                row[0].padding(toLength: 46, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 16, withPad: " ", startingAt: 0) + row[2])
        }
    }
}

/// One measured backup: wall seconds (the CLI from start to exit), items backed up, and for server runs the API
/// writes kube-sim counted while it ran.
struct Run {
    var seconds: Double
    var items: Int
    var statusWrites = 0
    var allWrites = 0
}
