import BackupModel
import BenchmarkSupport
import ChunkStore
import Collectors
import Foundation
import HTTPTransport
import KubeClient
import SystemIO

/// Resource collection throughput: a generated cluster served by `kube-sim` (a separate process on the same two
/// cores), collected into a local store by a serial collector (one LIST at a time, as Velero does) and by the
/// parallel collector with the CLI's defaults, in the same run. The yardstick is the raw LIST: every type's pages
/// fetched by 8 plain clients that only read the bytes (no decoding, no store), the fastest a reader can go.
///
///     swift build -c release && swift run -c release --package-path Benchmarks CollectorBenchmark
@main
struct CollectorBenchmark {
    static func main() async throws {
        let options = try ClusterBenchmarkOptions.setUp(
            namespaces: 1000, objectsPerNamespace: 100, workdir: "/tmp/velero-cas-collector-bench")
        let (namespaces, perNamespace, simPath, workdir) = (
            options.namespaces, options.objectsPerNamespace, options.kubeSim, options.workdir
        )
        log("starting kube-sim with \(namespaces) namespaces × \(perNamespace) objects")
        let server = try SimProcess.start(
            path: simPath,
            arguments: [
                "--port", "0", "--token", "bench-token=admin", "--generate-namespaces", String(namespaces),
                "--generate-objects", String(perNamespace), "--seed", "1", "--kubeconfig-out", workdir + "/kubeconfig",
            ])
        defer { server.stop() }
        let configuration = try ClusterConfiguration.load(path: workdir + "/kubeconfig", context: nil, environment: [:])

        let admin = KubeClient(configuration: configuration)
        var rows: [[String]] = []
        var types = 0
        var count = 0
        var peakRSS: Double?
        // Without latency the simulator answers at once and the run is CPU-bound (client and server share two
        // cores). A real API server spends milliseconds on every LIST page; the second pass injects that.
        for latency in [0, 10] {
            if latency > 0 {
                _ = try await admin.send(.post, "/sim/faults", body: Array(#"{"latencyMs":\#(latency)}"#.utf8))
            }
            var results: [(Int, Double)] = []
            var rawSeconds = 0.0
            // The parallel run goes first so the process's peak RSS, read right after it, is that run's alone.
            let runs: [(String, Int, ResourceCollector.Listing)] = [
                ("velero-cas parallel", 8, .crossNamespace),
                ("serial, a LIST per type per namespace (Velero)", 1, .perNamespace),
                ("serial, a cross-namespace LIST per type", 1, .crossNamespace),
            ]
            for (label, width, listing) in runs {
                let client = KubeClient(configuration: configuration)
                let store = try LocalDirectoryStore(root: workdir + "/store-\(latency)-\(results.count)", create: true)
                let repository = try await BenchmarkStore.open(store)
                log("collecting (\(latency) ms per request): \(label)")
                let collector = ResourceCollector(
                    client: client, repository: repository, width: width, listing: listing)
                let (manifest, summary) = try await collector.collect(name: "bench", filter: ResourceFilter())
                results.append((manifest.objectCount, summary.seconds))
                if results.count == 1 {
                    log("raw paginated LIST of the same \(manifest.streams.count) types: 8 plain clients")
                    let raw = try await rawList(
                        manifest.streams.map(\.resource), server: configuration.server, token: "bench-token",
                        workers: 8, pageSize: collector.pageSize)
                    // Every page was fetched, not just the first of each type.
                    let pages = manifest.streams.reduce(0) {
                        $0 + max(1, ($1.objects.count + collector.pageSize - 1) / collector.pageSize)
                    }
                    guard raw.pages >= pages else {
                        throw BenchError("the raw LIST fetched \(raw.pages) pages; the collection needs \(pages)")
                    }
                    rawSeconds = raw.seconds
                    rows.append([
                        "raw LIST, 8 clients, \(latency) ms/request",
                        String(format: "%.0f objects/s", Double(manifest.objectCount) / rawSeconds), "",
                    ])
                }
                let rate = String(format: "%.0f objects/s", Double(manifest.objectCount) / summary.seconds)
                rows.append(["\(label), \(latency) ms/request", rate, width > 1 ? "≥ 10,000 objects/s" : ""])
                types = manifest.streams.count
                if peakRSS == nil {
                    var usage = rusage()
                    getrusage(RUSAGE_SELF.rawValue, &usage)
                    peakRSS = Double(usage.ru_maxrss) / 1024
                }
            }
            guard Set(results.map(\.0)).count == 1 else {
                throw BenchError("runs collected different counts: \(results.map(\.0))")
            }
            count = results[0].0
            rows.append([
                "parallel vs raw LIST, \(latency) ms/request", String(format: "%.2fx raw", rawSeconds / results[0].1),
                "≥ 0.7x",
            ])
            rows.append([
                "parallel vs Velero-style serial, \(latency) ms/request",
                String(format: "%.1fx", results[1].1 / results[0].1),
                "≥ 5x",
            ])
            rows.append([
                "parallel vs cross-namespace serial, \(latency) ms/request",
                String(format: "%.1fx", results[2].1 / results[0].1), "",
            ])
        }
        rows.append([
            "peak RSS during the parallel collection", String(format: "%.0f MiB", peakRSS ?? 0), "≤ 300 MiB",
        ])
        print(
            "velero-cas collector benchmark: \(count) objects, \(types) resource types, \(namespaces) namespaces"
                + " (kube-sim shares the same cores)")
        for row in rows {
            print(
                row[0].padding(toLength: 64, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 22, withPad: " ", startingAt: 0) + row[2])
        }
    }

    /// Fetches every page of every type across all namespaces with `workers` plain HTTP clients, reading only the
    /// `continue` token of each page; returns the seconds it took and the pages fetched.
    static func rawList(_ resources: [APIResource], server: String, token: String, workers: Int, pageSize: Int)
        async throws -> (seconds: Double, pages: Int)
    {
        let http = HTTPClient(configuration: HTTPClient.Configuration(maxConnectionsPerHost: workers))
        let next = Counter()
        let pages = Counter()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while true {
                        let index = next.value.add(1, ordering: .relaxed).oldValue
                        guard index < resources.count else { return }
                        var continueToken: String?
                        repeat {
                            var url = server + resources[index].path() + "?limit=\(pageSize)"
                            if let continueToken { url += "&continue=" + continueToken }
                            let response = try await http.execute(
                                HTTPRequest(
                                    method: .get, url: url, headers: [HTTPHeader("Authorization", "Bearer \(token)")]))
                            guard response.status == 200 else {
                                throw BenchError("raw LIST \(url) answered \(response.status)")
                            }
                            pages.value.add(1, ordering: .relaxed)
                            continueToken = Self.continueToken(response.body)
                        } while continueToken != nil
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        return (
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            pages.value.load(ordering: .relaxed)
        )
    }

    /// The list's `metadata.continue`, found by its key (the tokens are URL-safe base64 with no escapes).
    static func continueToken(_ body: [UInt8]) -> String? {
        let key = Array(#""continue":""#.utf8)
        // The list metadata comes first; only the start of the body is searched.
        let head = body.prefix(4096)
        guard let start = head.indices.first(where: { head[$0...].starts(with: key) }) else { return nil }
        let value = head[(start + key.count)...].prefix { $0 != UInt8(ascii: "\"") }
        return value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
    }
}
