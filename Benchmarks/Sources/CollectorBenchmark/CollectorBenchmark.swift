import ChunkStore
import Collectors
import Foundation
import KubeClient
import SystemIO

/// Resource collection throughput: a generated cluster served by `kube-sim` (a separate process on the same two
/// cores), collected into a local store by a serial collector (one LIST at a time, as Velero does) and by the
/// parallel collector, in the same run.
///
///     swift build -c release && swift run -c release --package-path Benchmarks CollectorBenchmark
@main
struct CollectorBenchmark {
    static func main() async throws {
        var namespaces = 1000
        var perNamespace = 100
        var simPath = ".build/release/kube-sim"
        var workdir = "/tmp/velero-cas-collector-bench"
        var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--namespaces": namespaces = Int(arguments.next() ?? "") ?? namespaces
            case "--objects-per-namespace": perNamespace = Int(arguments.next() ?? "") ?? perNamespace
            case "--kube-sim": simPath = arguments.next() ?? simPath
            case "--workdir": workdir = arguments.next() ?? workdir
            default:
                FileHandle.standardError.write(
                    Data(
                        "unknown argument \(argument) (known: --namespaces N, --objects-per-namespace M, --kube-sim PATH, --workdir DIR)\n"
                            .utf8))
                exit(2)
            }
        }
        ProcessTuning.configureAllocator()
        try FileSystem.removeTree(workdir)
        try FileSystem.makeDirectories(workdir)
        log("starting kube-sim with \(namespaces) namespaces × \(perNamespace) objects")
        let server = try SimProcess.start(
            path: simPath,
            arguments: [
                "--port", "0", "--token", "bench-token=admin", "--generate-namespaces", String(namespaces),
                "--generate-objects", String(perNamespace), "--seed", "1", "--kubeconfig-out", workdir + "/kubeconfig",
            ])
        defer { server.stop() }
        let configuration = try ClusterConfiguration.load(path: workdir + "/kubeconfig", context: nil, environment: [:])

        var results: [(String, Int, Int64, Double)] = []
        for (label, width) in [("serial (one LIST at a time)", 1), ("velero-cas parallel", 8)] {
            let client = KubeClient(configuration: configuration, qps: 0, burst: 0)
            let store = try LocalDirectoryStore(root: workdir + "/store-\(width)", create: true)
            let repository = try await Repository.openOrCreate(store)
            log("collecting: \(label)")
            let collector = ResourceCollector(client: client, repository: repository, width: width)
            let (manifest, summary) = try await collector.collect(name: "bench", filter: ResourceFilter())
            results.append((label, manifest.objectCount, manifest.bytes, summary.seconds))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakRSS = Double(usage.ru_maxrss) / 1024

        let (_, serialCount, _, serialSeconds) = results[0]
        let (_, count, bytes, seconds) = results[1]
        guard serialCount == count else {
            throw BenchError("serial collected \(serialCount) objects, parallel \(count)")
        }
        let rows = [
            [
                "objects",
                "\(count) (\(String(format: "%.0f", Double(bytes) / 1e6)) MB of JSON, \(namespaces) namespaces)", "",
            ],
            ["serial collector", String(format: "%.0f objects/s", Double(serialCount) / serialSeconds), ""],
            ["parallel collector", String(format: "%.0f objects/s", Double(count) / seconds), "≥ 10,000 objects/s"],
            ["parallel vs serial", String(format: "%.1fx", serialSeconds / seconds), "≥ 5x"],
            ["peak RSS of the collector process", String(format: "%.0f MiB", peakRSS), "≤ 300 MiB"],
        ]
        print("velero-cas collector benchmark (kube-sim shares the same cores)")
        for row in rows {
            print(
                row[0].padding(toLength: 36, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 52, withPad: " ", startingAt: 0) + row[2])
        }
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data("· \(message)\n".utf8))
    }
}

/// The kube-sim executable, started in the background until `stop()`.
struct SimProcess {
    let process: Process

    static func start(path: String, arguments: [String]) throws -> SimProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Wait for the "listening" line: generation of a large cluster takes a moment.
        var seen = ""
        while !seen.contains("listening on") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { throw BenchError("kube-sim exited before listening: \(seen)") }
            seen += String(decoding: data, as: UTF8.self)
        }
        return SimProcess(process: process)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
