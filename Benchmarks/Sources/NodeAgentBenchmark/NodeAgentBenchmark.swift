import BenchmarkSupport
import ChunkStore
import Foundation
import KubeClient
import SampleData
import SystemIO
import VeleroAPI

typealias BenchmarkError = BenchError

/// Node agent throughput and scale-out: `velero-cas node-agent` processes against kube-sim, each node a kubelet
/// root of its own holding pods' emptyDir volumes of generated data. (a) One agent, no throttle: backup and restore
/// MB/s against the machine's limit for the same work measured in the same run. (b) 1, 2, 4 … agents, each reading
/// through `--read-bytes-per-second` (a stand-in for a node's own disk), the data split evenly over the nodes:
/// aggregate MB/s and how it grows per added agent.
@main
struct NodeAgentBenchmark {
    struct Options {
        var megabytes = 512
        var agents = [1, 2, 4]
        /// Per agent. 4 agents × 25 MB/s stay under what one agent does unthrottled on two cores, so the
        /// throttle, not the shared CPU, is what bounds each agent.
        var throttleMBps = 25.0
        /// Restores, each paired with a measurement of its floor; the best of each is compared (see `run`).
        var rounds = 3
        var workdir = "/tmp/velero-cas-node-agent-bench"
        var kubeSim = ".build/release/kube-sim"
        var cli = ".build/release/velero-cas"

        static func parse() throws -> Options {
            var options = Options()
            var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
            func value(_ flag: String) throws -> String {
                guard let value = arguments.next() else { throw BenchError("\(flag) needs a value") }
                return value
            }
            while let argument = arguments.next() {
                switch argument {
                case "--megabytes":
                    let text = try value(argument)
                    guard let megabytes = Int(text), megabytes >= 1 else {
                        throw BenchError("--megabytes '\(text)' must be a whole number of at least 1")
                    }
                    options.megabytes = megabytes
                case "--agents":
                    let text = try value(argument)
                    let counts = text.split(separator: ",").compactMap { Int($0) }
                    guard !counts.isEmpty, counts.count == text.split(separator: ",").count,
                        counts.allSatisfy({ (1...16).contains($0) })
                    else { throw BenchError("--agents '\(text)' must be a list of counts from 1 to 16, e.g. 1,2,4") }
                    options.agents = counts
                case "--throttle-mbps":
                    let text = try value(argument)
                    guard let rate = Double(text), rate > 0 else {
                        throw BenchError("--throttle-mbps '\(text)' must be a positive number of MB/s")
                    }
                    options.throttleMBps = rate
                case "--rounds":
                    let text = try value(argument)
                    guard let rounds = Int(text), (1...20).contains(rounds) else {
                        throw BenchError("--rounds '\(text)' must be a whole number from 1 to 20")
                    }
                    options.rounds = rounds
                case "--workdir": options.workdir = try value(argument)
                case "--kube-sim": options.kubeSim = try value(argument)
                case "--cli": options.cli = try value(argument)
                default:
                    throw BenchError(
                        "unknown argument \(argument) (known: --megabytes N, --agents 1,2,4, --throttle-mbps R, --rounds N, --workdir DIR, --kube-sim PATH, --cli PATH)"
                    )
                }
            }
            return options
        }
    }

    static func main() async {
        do {
            try await run(try Options.parse())
        } catch {
            FileHandle.standardError.write(Data("NodeAgentBenchmark: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws {
        try ClusterBenchmarkOptions.prepare(workdir: options.workdir)
        let workdir = options.workdir
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Parts divide evenly over every agent count, two per agent (its default volume concurrency).
        let parts = options.agents.reduce(1) { lcm($0, $1) } * 2
        let partBytes = options.megabytes * 1_000_000 / parts
        log("generating \(options.megabytes) MB as \(parts) volumes")
        for part in 0..<parts {
            try SampleData(seed: UInt64(part + 1)).generate(into: "\(workdir)/data/part-\(part)", bytes: partBytes)
        }
        let files = try regularFiles(under: workdir + "/data")
        log("measuring the machine limit (chunking + HMAC-SHA-256 + lz4 + AES-256-GCM, \(cores) cores)")
        let master = MasterKey.generate()
        let limit = try await MachineLimit.chunkHashAndCompress(files: files, cores: cores, master: master)
        let blockLimit = try await MachineLimit.hashAndCompress(files: files, cores: cores, master: master)

        let kubeconfig = workdir + "/kubeconfig"
        let sim = try SimProcess.start(
            path: options.kubeSim, arguments: ["--port", "0", "--kubeconfig-out", kubeconfig])
        defer { sim.stop() }
        let client = KubeClient(
            configuration: try ClusterConfiguration.load(path: kubeconfig, context: nil, environment: [:]))
        try await prepareCluster(client)
        let fleet = Fleet(client: client, cli: options.cli, kubeconfig: kubeconfig, workdir: workdir)
        let runs = Runs(fleet: fleet, parts: parts)

        log("one agent, unthrottled: backup")
        let single = try await runs.backup("single", nodes: 1, readBytesPerSecond: nil)
        // The restore against its floor, in rounds that alternate which of the two goes first. On this VM what a
        // write costs depends on the memory's and the file system's recent history (pages not touched lately cost
        // a fault in the host; inodes deleted in the last minutes slow the allocator), so one pair can differ by a
        // third either way; the best of each over the rounds is what the machine can do, and nothing written is
        // removed until all rounds are done, so no measurement inherits another's freed pages or inodes.
        let (packs, storeMaster) = try await storePacks(workdir + "/store-single")
        let shape = try TreeWriteLimit.shape(of: (0..<parts).map(runs.part))
        var restores: [Runs.Restored] = []
        var floors: [Double] = []
        for round in 0..<options.rounds {
            func floor() async throws {
                log("round \(round + 1): the restore's floor (the same tree: create, decode into, fsync)")
                floors.append(
                    try await TreeWriteLimit.measure(
                        shape: shape, packs: packs, into: workdir + "/restore-floor-\(round)", cores: cores,
                        master: storeMaster))
            }
            if round % 2 == 1 { try await floor() }
            log("round \(round + 1): one agent, unthrottled: restore")
            restores.append(try await runs.restore(single, round: round))
            if round % 2 == 0 { try await floor() }
        }
        let decodeLimit = try await MachineLimit.decodeAndVerify(packs: packs, cores: cores, master: storeMaster)
        for restored in restores { try runs.verify(restored) }
        for round in 0..<options.rounds { try FileSystem.removeTree(workdir + "/restore-floor-\(round)") }
        let restoreSeconds = restores.map(\.seconds).min() ?? 0
        let restoreLimit = floors.max() ?? 0

        let rate = Int(options.throttleMBps * 1_000_000)
        var scaled: [(agents: Int, mbps: Double)] = []
        for count in options.agents {
            log("\(count) agent(s), each at \(options.throttleMBps) MB/s: backup")
            let run = try await runs.backup("scale-\(count)", nodes: count, readBytesPerSecond: rate)
            scaled.append((count, run.mbps))
        }

        let bytes = Double(single.bytes)
        print("Node agent benchmark: \(options.megabytes) MB in \(parts) emptyDir volumes, \(cores) cores")
        print("machine limit (chunking + HMAC-SHA-256 + lz4 + AES-256-GCM): \(format(limit / 1e6)) MB/s")
        print("  without chunking (1 MiB blocks): \(format(blockLimit / 1e6)) MB/s")
        print(
            "restore floor (the same tree: mkdir, create, AES-256-GCM + lz4 + verify, write, fsync), best of "
                + "\(options.rounds): \(format(restoreLimit / 1e6)) MB/s")
        print("  rounds: " + floors.map { format($0 / 1e6) }.joined(separator: ", ") + " MB/s")
        print("  decoding alone (in memory): \(format(decodeLimit / 1e6)) MB/s")
        print("")
        print("one agent, no throttle        MB/s    of limit")
        print(row("backup", bytes / single.seconds / 1e6, bytes / single.seconds / limit))
        print(row("  vs the limit without chunking", bytes / single.seconds / 1e6, bytes / single.seconds / blockLimit))
        print(
            row(
                "restore, best of \(options.rounds)", bytes / restoreSeconds / 1e6,
                bytes / restoreSeconds / restoreLimit))
        print(row("  vs decoding in memory", bytes / restoreSeconds / 1e6, bytes / restoreSeconds / decodeLimit))
        for (round, (restored, floor)) in zip(restores, floors).enumerated() {
            let mbps = bytes / restored.seconds
            print(row("  round \(round + 1) (vs its floor)", mbps / 1e6, mbps / floor))
        }
        print("")
        print("agents × \(format(options.throttleMBps)) MB/s    aggregate MB/s   vs 1 agent × N")
        let base = scaled.first { $0.agents == 1 }?.mbps ?? scaled[0].mbps / Double(scaled[0].agents)
        for (count, mbps) in scaled {
            print(row("\(count) agent(s)", mbps, mbps / (base * Double(count))))
        }
        try? FileSystem.removeTree(workdir)
    }

    static func prepareCluster(_ client: KubeClient) async throws {
        let namespaces = APIResource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
        for name in ["velero", "bench"] {
            _ = try await client.create(
                namespaces, namespace: nil,
                json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#.utf8))
        }
        let definitions = APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            kind: "CustomResourceDefinition", namespaced: false)
        for definition in VeleroCRDs.all {
            _ = try await client.create(definitions, namespace: nil, json: try definition.json())
        }
    }

    /// The packs of the store a run wrote, with where their chunks lie, and the store's master key.
    static func storePacks(_ store: String) async throws -> (packs: [MachineLimit.PackFile], master: MasterKey) {
        guard
            let master = try await StoreKey.all(in: try LocalDirectoryStore(root: store, create: false)).lazy
                .compactMap({ try? $0.open(password: Array(Fleet.password.utf8)) }).first
        else { throw BenchError("the store's key does not open with the benchmark's password") }
        let opened = try await BenchmarkStore.open(try LocalDirectoryStore(root: store, create: false))
        let packs = await opened.indexedLocations().map {
            MachineLimit.PackFile(path: store + "/" + $0.key.key, chunks: $0.value)
        }
        return (packs, master)
    }

    static func regularFiles(under directory: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var files: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            if try FileSystem.statusIfExists(path)?.kind == .regular { files.append(path) }
        }
        return files.sorted()
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        return a / gcd(a, b) * b
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func row(_ label: String, _ mbps: Double, _ fraction: Double) -> String {
        label.padding(toLength: 26, withPad: " ", startingAt: 0) + format(mbps).leftPadded(10)
            + String(format: "%11.0f%%", fraction * 100)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
