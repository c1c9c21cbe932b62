import BackupModel
import BenchmarkSupport
import ChunkStore
import Collectors
import Foundation
import HTTPTransport
import KubeClient
import Restorer
import Synchronization
import SystemIO

/// Restore throughput against an API server of finite capacity: a generated cluster of about 20,000 objects is
/// collected once, then restored into fresh, empty kube-sims that model a real server (a limited number of requests
/// served at once, a cost per request, a queue, 429 with Retry-After beyond it). Every velero-cas pass runs with the
/// CLI's production defaults. The yardstick, measured in the same run on an identical server, is a raw parallel
/// create: 16 plain keep-alive clients POSTing the already-transformed objects tier by tier, waiting as Retry-After
/// says. Next to it: velero-cas with the old fixed 200 requests/s cap, and the serial apply Velero does.
///
///     swift build -c release && swift run -c release --package-path Benchmarks RestoreBenchmark
@main
struct RestoreBenchmark {
    /// A server like the 2-core kube-apiserver measured here (about 1,100–1,300 creates/s with 8–16 clients).
    static let roomy = ["--max-in-flight", "8", "--queue-length", "8", "--request-cost-ms", "5"]
    /// The same server with no queue: beyond 8 requests at once it answers 429 at once.
    static let saturated = ["--max-in-flight", "8", "--queue-length", "0", "--request-cost-ms", "5"]

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
                path: workdir + "/source.kubeconfig", context: nil, environment: [:]))
        let repository = try await BenchmarkStore.open(
            try LocalDirectoryStore(root: workdir + "/store", create: true))
        let (manifest, _) = try await ResourceCollector(client: sourceClient, repository: repository)
            .collect(name: "bench", filter: ResourceFilter())
        let tiers = try await RawCreate.plan(manifest, reader: ResourceReader(repository: repository))

        var rows: [[String]] = []
        var pass = 0
        func target(_ capacity: [String]) throws -> (SimProcess, ClusterConfiguration) {
            pass += 1
            let config = workdir + "/target-\(pass).kubeconfig"
            let sim = try SimProcess.start(
                path: simPath, arguments: ["--port", "0", "--kubeconfig-out", config] + capacity)
            return (sim, try ClusterConfiguration.load(path: config, context: nil, environment: [:]))
        }
        func restore(_ label: String, _ capacity: [String], width: Int, qps: Double = 0) async throws -> Double {
            let (sim, configuration) = try target(capacity)
            defer { sim.stop() }
            let client =
                qps > 0
                ? KubeClient(configuration: configuration, qps: qps, burst: Int(qps) * 2)
                : KubeClient(configuration: configuration)
            log("restoring: \(label)")
            let result = try await ResourceRestorer(
                client: client, reader: ResourceReader(repository: repository), width: width
            ).restore(manifest, options: RestoreOptions())
            guard result.phase == .completed else {
                throw BenchError("restore \(result.phase): \(result.errors.prefix(3))")
            }
            let rate = Double(result.count(.created)) / result.seconds
            let (limit, decreases) = client.concurrencyLimit
            log("  \(Int(rate)) objects/s; in-flight limit \(limit) at the end, lowered \(decreases) times by 429s")
            return rate
        }
        func raw(_ capacity: [String]) async throws -> (rate: Double, rejected: Int) {
            let (sim, configuration) = try target(capacity)
            defer { sim.stop() }
            log("raw parallel create: 16 plain clients")
            return try await RawCreate.run(tiers, server: configuration.server, workers: 16)
        }

        for (name, capacity) in [
            ("8 at once, queue 8, 5 ms each", roomy), ("8 at once, no queue, 5 ms each", saturated),
        ] {
            let baseline = try await raw(capacity)
            rows.append([
                "\(name): raw parallel create (16 clients)", String(format: "%.0f objects/s", baseline.rate),
                "\(baseline.rejected) answered 429", "",
            ])
            let defaults = try await restore("production defaults, \(name)", capacity, width: 16)
            rows.append([
                "\(name): velero-cas, production defaults", String(format: "%.0f objects/s", defaults),
                String(format: "%.2fx raw", defaults / baseline.rate), "≥ 0.7x",
            ])
            if capacity == roomy {
                let capped = try await restore("old fixed cap (200/s)", capacity, width: 16, qps: 200)
                rows.append([
                    "\(name): velero-cas with the old fixed 200/s cap", String(format: "%.0f objects/s", capped),
                    String(format: "%.2fx raw", capped / baseline.rate), "",
                ])
                let serial = try await restore("serial apply", capacity, width: 1)
                rows.append([
                    "\(name): serial apply (Velero's way)", String(format: "%.0f objects/s", serial),
                    String(format: "velero-cas %.1fx faster", defaults / serial), "≥ 5x",
                ])
            }
        }
        print(
            "velero-cas restore benchmark: \(manifest.objectCount) objects in \(manifest.streams.count) resource types"
                + " (kube-sim shares the same cores)")
        for row in rows {
            print(
                row[0].padding(toLength: 72, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 18, withPad: " ", startingAt: 0)
                    + row[2].padding(toLength: 26, withPad: " ", startingAt: 0) + row[3])
        }
    }
}

/// The yardstick: the restore's objects, transformed beforehand, POSTed by plain keep-alive clients.
enum RawCreate {
    struct Request: Sendable {
        var path: String
        var body: [UInt8]
    }

    /// The objects in restore order (tiers), as the requests that create them.
    static func plan(_ manifest: ResourceManifest, reader: ResourceReader) async throws -> [[Request]] {
        let transform = ObjectTransform()
        var tiers: [[Request]] = []
        for tier in RestoreOrder.tiers(manifest.streams.map(\.resource)) {
            var requests: [Request] = []
            for stream in manifest.streams where tier.contains(stream.resource) {
                for bytes in try await reader.objects(in: stream) {
                    guard
                        case .restore(let json, let namespace, _) = try transform.apply(
                            bytes, resource: stream.resource)
                    else { continue }
                    requests.append(Request(path: stream.resource.path(namespace: namespace), body: json))
                }
            }
            if !requests.isEmpty { tiers.append(requests) }
        }
        return tiers
    }

    /// Creates everything, tier after tier, with `workers` clients; returns objects created per second (as the
    /// restore counts them) and how many 429s came back.
    static func run(_ tiers: [[Request]], server: String, workers: Int) async throws -> (rate: Double, rejected: Int) {
        let http = HTTPClient(configuration: HTTPClient.Configuration(maxConnectionsPerHost: workers))
        let rejected = Counter()
        let started = ContinuousClock.now
        var created = 0
        for tier in tiers {
            let next = Counter()
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        var done = 0
                        while true {
                            let index = next.value.add(1, ordering: .relaxed).oldValue
                            guard index < tier.count else { return done }
                            let request = tier[index]
                            while true {
                                let response = try await http.execute(
                                    HTTPRequest(
                                        method: .post, url: server + request.path,
                                        headers: [HTTPHeader("Content-Type", "application/json")], body: request.body))
                                if response.status == 429 {
                                    rejected.value.add(1, ordering: .relaxed)
                                    let seconds = Int(response.header("Retry-After") ?? "") ?? 1
                                    try await Task.sleep(for: .seconds(seconds))
                                    continue
                                }
                                // A fresh cluster has its default namespaces already (409), as the restore finds.
                                guard [200, 201, 409].contains(response.status) else {
                                    throw BenchError("raw create \(request.path) answered \(response.status)")
                                }
                                if response.status != 409 { done += 1 }
                                break
                            }
                        }
                    }
                }
                for try await done in group { created += done }
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(created) / seconds, rejected.value.load(ordering: .relaxed))
    }
}
