import BackupModel
import BenchmarkSupport
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import SampleData
import SystemIO

/// Expiry cost: stores holding 10, 100 and 1,000 backups of a slowly changing dataset; the time to expire one
/// backup, against a full mark-and-sweep (read every manifest, list every chunk) of the same store in the same run.
///
///     swift run -c release --package-path Benchmarks GCBenchmark [--megabytes 32] [--backups 10,100,1000]
@main
struct GCBenchmark {
    static func main() async throws {
        var megabytes = 32
        var sizes = [10, 100, 1000]
        var cycles = 1000
        var workdir = "/tmp/velero-cas-gc-bench"
        var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--megabytes": megabytes = Int(arguments.next() ?? "") ?? megabytes
            case "--workdir": workdir = arguments.next() ?? workdir
            case "--cycles": cycles = Int(arguments.next() ?? "") ?? cycles
            case "--backups":
                let text = arguments.next() ?? ""
                sizes = text.split(separator: ",").compactMap { Int($0) }
                guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 2 }) else {
                    throw BenchError(
                        "--backups takes two or more counts of at least 2, like 10,100,1000; not '\(text)'")
                }
            default:
                throw BenchError(
                    "unknown argument \(argument) (known: --megabytes N, --backups N,N,…, --cycles N, --workdir DIR)")
            }
        }
        try ClusterBenchmarkOptions.prepare(workdir: workdir)
        var rows: [[String]] = []
        var expiry: [Int: Double] = [:]
        for backups in sizes {
            let root = "\(workdir)/\(backups)"
            let data = root + "/data"
            let generator = SampleData(seed: 5)
            try generator.generate(into: data, bytes: megabytes << 20)
            let repository = try await BenchmarkStore.open(try LocalDirectoryStore(root: root + "/store", create: true))
            log("making \(backups) backups of \(megabytes) MiB, 1% changing between them")
            for index in 0..<backups {
                if index > 0 { try SampleData(seed: UInt64(100 + index)).mutate(directory: data, fraction: 0.01) }
                try await backup("b\(index)", source: data, repository: repository)
            }
            _ = try await GarbageCollector(repository: repository).run()  // count everything first
            let clock = ContinuousClock()
            var start = clock.now
            let result = try await GarbageCollector(repository: repository).run(delete: ["b1"])
            let expireSeconds = (clock.now - start).seconds
            start = clock.now
            let sweep = try await StoreVerifier(repository: repository).verify(readData: false)
            let sweepSeconds = (clock.now - start).seconds
            expiry[backups] = expireSeconds
            rows.append([
                "\(backups) backups: expire one (\(result.deletedChunks) chunks freed)",
                String(format: "%.3fs", expireSeconds),
                String(format: "%.1f%% of a full mark-and-sweep", expireSeconds / sweepSeconds * 100), "≤ 10%",
            ])
            rows.append([
                "\(backups) backups: full mark-and-sweep (\(sweep.referencedChunks) chunks)",
                String(format: "%.3fs", sweepSeconds), "", "",
            ])
        }
        let smallest = sizes.min()!
        for backups in sizes where backups != smallest {
            rows.append([
                "\(backups) vs \(smallest) backups: expiry time", "",
                String(format: "%.2fx", expiry[backups]! / expiry[smallest]!), "flat (≤ 2x)",
            ])
        }
        rows += try await reuseCycles(cycles, workdir: workdir)
        print("velero-cas expiry benchmark: \(megabytes) MiB per backup, local store")
        for row in rows {
            print(
                row[0].padding(toLength: 60, withPad: " ", startingAt: 0)
                    + row[1].padding(toLength: 10, withPad: " ", startingAt: 0)
                    + row[2].padding(toLength: 34, withPad: " ", startingAt: 0) + row[3])
        }
    }

    /// GC cost per operation must not grow with history: `cycles` times, back up one name, count it, delete it
    /// (the name reused every time, as a schedule's volume snapshots are). Compares the first and last tenth.
    static func reuseCycles(_ cycles: Int, workdir: String) async throws -> [[String]] {
        let root = "\(workdir)/cycles"
        let data = root + "/data"
        try SampleData(seed: 9).generate(into: data, bytes: 1 << 20)
        let repository = try await BenchmarkStore.open(try LocalDirectoryStore(root: root + "/store", create: true))
        try await backup("keep", source: data, repository: repository)
        log("\(cycles) create/count/delete cycles of one backup name")
        let clock = ContinuousClock()
        var times: [Double] = []
        for cycle in 0..<cycles {
            let start = clock.now
            if cycle % 2 == 1 { try SampleData(seed: UInt64(cycle)).mutate(directory: data, fraction: 0.05) }
            try await backup("nightly", source: data, repository: repository)
            _ = try await GarbageCollector(repository: repository).run()
            _ = try await GarbageCollector(repository: repository).run(delete: ["nightly"])
            times.append((clock.now - start).seconds)
        }
        // Medians: a cycle is a few milliseconds of fsyncs, and one slow fsync on a shared disk would move a mean.
        let tenth = max(1, cycles / 10)
        func median(_ values: some Collection<Double>) -> Double { values.sorted()[values.count / 2] }
        let first = median(times.prefix(tenth))
        let last = median(times.suffix(tenth))
        let memory = try await GarbageCollector(repository: repository).appliedOperationMemory()
        return [
            ["\(cycles) cycles of one name: first tenth, median cycle", String(format: "%.3fs", first), "", ""],
            [
                "\(cycles) cycles of one name: last tenth, median cycle", String(format: "%.3fs", last),
                String(format: "%.2fx the first tenth", last / first), "flat (≤ 1.2x)",
            ],
            ["largest applied-operation memory of a count shard", "\(memory)", "operations", "bounded"],
        ]
    }

    /// A committed backup whose data is a volume snapshot of `source` (no cluster needed).
    static func backup(_ name: String, source: String, repository: Repository) async throws {
        let commit = CommitID.make()
        let snapshot = try await TreeBackup(repository: repository).run(
            source: source, name: "\(name).pv.data", backupCommit: commit)
        var record = BackupRecord(
            name: name, filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "bench", cluster: "none")
        record.phase = .completed
        record.commit = commit
        var volume = VolumeRecord.unreachable(persistentVolume: "data", path: source, reason: "")
        volume.snapshot = snapshot.name
        volume.skipped = nil
        record.volumes = [volume]
        try await repository.commitRecord(record, key: BackupRecord.key(name))
    }
}
