import ChunkStore
import Foundation
import SampleData
import SystemIO

/// The storage benchmark: about 1 GiB of volume-like data, backed up three times and restored by the release CLI,
/// each figure reported as a ratio to a limit (or peer) measured in the same run.
///
///     swift build -c release && swift run -c release --package-path Benchmarks StoreBenchmark [--gigabytes 1]
@main
struct StoreBenchmark {
    struct Options {
        var gigabytes = 1.0
        var workdir = "/tmp/velero-cas-bench"
        var cli = ".build/release/velero-cas"
        var peers = true
        /// A plain store (`store init --encryption none`), compared with borg `-e none` (restic always encrypts).
        var plain = false
        /// Restores of each tool (velero-cas and the peers), in rounds whose order rotates; the best of each is
        /// compared (see `restoreRounds(…)`).
        var restoreRounds = 3
    }

    static func main() async throws {
        let options = try parse(Array(CommandLine.arguments.dropFirst()))
        // velero-cas encrypts new stores (production default); its password and configuration stay in the workdir.
        setenv("VELERO_CAS_PASSWORD", "benchmark", 1)
        setenv("VELERO_CAS_CONFIG", options.workdir + "/velero-cas-config/locations.yaml", 1)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let data = options.workdir + "/data"
        let store = options.workdir + "/store"
        let target = options.workdir + "/restored"
        // A previous run's files are moved aside now and deleted after measuring: deleting ~10,000 files right before
        // creating as many makes ext4 scan recently freed inodes on every create, which would be measured too.
        let previous = options.workdir + ".previous-" + Path.randomSuffix()
        if try FileSystem.statusIfExists(options.workdir) != nil {
            try FileSystem.rename(options.workdir, to: previous)
        }
        defer { try? FileSystem.removeTree(previous) }
        let bytes = Int(options.gigabytes * Double(1 << 30))
        log("generating \(Format.mib(Int64(bytes))) of data in \(data)")
        try SampleData(seed: 7).generate(into: data, bytes: bytes)
        let files = try listFiles(data)

        settle()
        // The limits do the store's per-chunk work with a key of the same kind (the store's own is made later).
        let scratchKey = options.plain ? nil : MasterKey.generate()
        let work = options.plain ? "SHA-256 + lz4" : "HMAC-SHA-256 + lz4 + AES-256-GCM"
        log("measuring the machine limit (\(work), \(cores) cores)")
        let limit = try await MachineLimit.hashAndCompress(files: files, cores: cores, master: scratchKey)
        settle()
        log("measuring the I/O floor (read + \(work) + write, \(cores) cores)")
        let ioLimit = try await MachineLimit.readHashCompressWrite(
            files: files, scratch: options.workdir + "/scratch", cores: cores, master: scratchKey)

        let cli = CLI(path: options.cli, store: store)
        if options.plain { try cli.initPlain() }
        settle()
        log("first backup")
        let first = try cli.backup(data, name: "first")
        let changed = try SampleData(seed: 7).mutate(directory: data, fraction: 0.01)
        settle()
        log("second backup after changing \(Format.mib(Int64(changed)))")
        let second = try cli.backup(data, name: "second")
        settle()
        log("third backup, nothing changed")
        let third = try cli.backup(data, name: "third")
        settle()
        log("restore")
        let restore = try cli.restore("third", into: target)
        log("restore round 1: velero-cas \(String(format: "%.2f", restore.seconds)) s")
        let differences = try SampleData.compareTrees(data, target)
        guard differences.isEmpty else { throw BenchmarkError("restore differs: \(differences.prefix(3))") }
        settle()
        log("forgetting the first backup (gc of what it alone held)")
        let forgetSeconds = try cli.forget("first")
        let peakRSS = cli.measuresRSS ? cli.peakRSS : childPeakRSS()
        settle()
        let decodeWork = options.plain ? "lz4 decompress + SHA-256" : "AES-256-GCM + lz4 decompress + HMAC-SHA-256"
        log("measuring the restore limit (\(decodeWork) verify, \(cores) cores)")
        let master = try await StoreKey.all(in: try LocalDirectoryStore(root: store, create: false)).lazy
            .compactMap({ try? $0.open(password: Array("benchmark".utf8)) }).first
        guard master != nil || options.plain else {
            throw BenchmarkError("the store's key does not open with the benchmark's password")
        }
        let opened = try await Repository.open(
            try LocalDirectoryStore(root: store, create: false), passwords: FixedPassword("benchmark"))
        let packFiles = await opened.indexedLocations().map {
            MachineLimit.PackFile(path: store + "/" + $0.key.key, chunks: $0.value)
        }
        let decodeLimit = try await MachineLimit.decodeAndVerify(packs: packFiles, cores: cores, master: master)
        settle()
        log("measuring the restore I/O floor (read + decode + verify + write, \(cores) cores)")
        let restoreFloor = try await MachineLimit.readDecodeWrite(
            packs: packFiles, scratch: options.workdir + "/scratch", cores: cores, master: master)

        var peers: [Peers.Result] = []
        if options.peers {
            let borg = { try Peers.borg(data: $0, workdir: $1, encrypted: !options.plain) }
            let restic = { try Peers.restic(data: $0, workdir: $1) }
            for (name, run) in [("restic", restic), ("borg", borg)] {
                if Peers.installed(name) {
                    settle()
                    log("running \(name) on the same data")
                    peers.append(try run(data, options.workdir))
                } else {
                    log("\(name) is not installed (apt-get install \(name == "borg" ? "borgbackup" : name)); skipped")
                }
            }
        }

        let restoreSeconds = try restoreRounds(
            options: options, cli: cli, firstTarget: target, first: restore.seconds, peers: &peers)
        let logical = Double(first.summary.logicalBytes)
        let firstRate = logical / first.summary.seconds
        let restoreRate = Double(restore.bytes) / restoreSeconds
        var report = Report()
        report.row("machine limit: \(work)", Format.rate(limit), "", "")
        report.row(
            "I/O floor: read + \(work) + write", Format.rate(ioLimit),
            Format.percent(ioLimit / limit) + " of limit", "")
        report.row("first backup", Format.rate(firstRate), Format.percent(firstRate / limit) + " of limit", "≥ 70%")
        report.row("first backup vs the I/O floor", "", Format.percent(firstRate / ioLimit) + " of floor", "")
        report.row(
            "second backup (1% changed): new bytes", Format.mib(second.summary.newStoredBytes),
            Format.percent(Double(second.summary.newStoredBytes) / logical) + " of data", "≤ 3%")
        report.row(
            "third backup (unchanged): time", String(format: "%.3fs", third.summary.seconds),
            Format.percent(third.summary.seconds / first.summary.seconds) + " of first", "≤ 5%")
        report.row("restore limit: \(decodeWork)", Format.rate(decodeLimit), "", "")
        report.row(
            "restore I/O floor: read + decode + write", Format.rate(restoreFloor),
            Format.percent(restoreFloor / decodeLimit) + " of limit", "")
        report.row(
            "restore (best of \(options.restoreRounds))", Format.rate(restoreRate),
            Format.percent(restoreRate / decodeLimit) + " of limit",
            "≥ 1 GB/s or ≥ 70% of its own limit")
        report.row(
            "restore vs its own limit (the I/O floor)", "", Format.percent(restoreRate / restoreFloor) + " of floor", ""
        )
        report.row("forget the first backup + gc", String(format: "%.3fs", forgetSeconds), "", "")
        report.row("peak RSS of velero-cas", Format.mib(peakRSS), "", "≤ 300 MiB")
        report.row(
            "store size after 3 backups", Format.mib(try directorySize(store)),
            Format.percent(Double(try directorySize(store)) / logical) + " of data", "")
        for peer in peers {
            report.row(
                "\(peer.name) backup", Format.rate(logical / peer.backupSeconds),
                String(format: "velero-cas %.1fx faster", peer.backupSeconds / first.summary.seconds), "≥ 2x")
            report.row(
                "\(peer.name) restore (best of \(options.restoreRounds))",
                Format.rate(Double(restore.bytes) / peer.restoreSeconds),
                String(format: "velero-cas %.1fx faster", peer.restoreSeconds / restoreSeconds), "≥ 2x")
            report.row(
                "\(peer.name) forget + prune of the first", String(format: "%.3fs", peer.forgetSeconds),
                String(format: "velero-cas takes %.0f%%", forgetSeconds / peer.forgetSeconds * 100), "≤ 50%")
        }
        print(
            report.render(
                title: "velero-cas store benchmark (\(options.plain ? "plain" : "encrypted") store): "
                    + "\(Format.mib(Int64(logical))), \(files.count) files, \(cores) cores"
            ))
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--gigabytes":
                guard let value = iterator.next().flatMap(Double.init), value > 0 else {
                    throw BenchmarkError("--gigabytes needs a positive number")
                }
                options.gigabytes = value
            case "--workdir": options.workdir = iterator.next() ?? options.workdir
            case "--cli": options.cli = iterator.next() ?? options.cli
            case "--no-peers": options.peers = false
            case "--plain": options.plain = true
            case "--restore-rounds":
                guard let value = iterator.next().flatMap(Int.init), (1...10).contains(value) else {
                    throw BenchmarkError("--restore-rounds needs a whole number from 1 to 10")
                }
                options.restoreRounds = value
            default:
                throw BenchmarkError(
                    "unknown argument \(argument) (known: --gigabytes N, --workdir DIR, --cli PATH, --no-peers, --plain, --restore-rounds N)"
                )
            }
        }
        return options
    }

    /// Restores again, in rounds: velero-cas (checked against the data each time) and each peer, the order rotated
    /// each round so that none always follows the same one. The trees stay until every round is done: removing
    /// one would hand the next restore freshly freed memory and recently deleted inodes, which change what a write
    /// costs on this VM. One restore per tool can differ by a third from the next with the disk and memory shared,
    /// so the best of each (velero-cas's, returned; each peer's, in `peers`) is what is compared. `first` is
    /// velero-cas's first restore (into `firstTarget`), the peers' first are in `peers` already.
    static func restoreRounds(
        options: Options, cli: CLI, firstTarget: String, first: Double, peers: inout [Peers.Result]
    ) throws -> Double {
        var best = first
        var targets: [String] = []
        defer { for target in targets { try? FileSystem.removeTree(target) } }
        let tools = ["velero-cas"] + peers.map(\.name)
        for round in 1..<options.restoreRounds {
            for offset in 0..<tools.count {
                let tool = tools[(round + offset) % tools.count]
                let target = options.workdir + "/restored-\(tool)-\(round)"
                targets.append(target)
                settle()
                let seconds: Double
                if tool == "velero-cas" {
                    seconds = try cli.restore("third", into: target).seconds
                    best = min(best, seconds)
                    // The peers changed the data since; the first restore was checked against it before they did.
                    let differences = try SampleData.compareTrees(firstTarget, target)
                    guard differences.isEmpty else {
                        throw BenchmarkError("restore differs: \(differences.prefix(3))")
                    }
                } else if let index = peers.firstIndex(where: { $0.name == tool }) {
                    seconds = try Peers.restoreAgain(tool, workdir: options.workdir, into: target)
                    peers[index].restoreSeconds = min(peers[index].restoreSeconds, seconds)
                } else {
                    continue
                }
                log("restore round \(round + 1): \(tool) \(String(format: "%.2f", seconds)) s")
            }
        }
        return best
    }

    static func listFiles(_ directory: String) throws -> [String] {
        var result: [String] = []
        for name in try FileSystem.contentsOfDirectory(directory) {
            let path = directory + "/" + name
            let status = try FileSystem.status(path)
            if status.kind == .directory { result += try listFiles(path) }
            if status.kind == .regular { result.append(path) }
        }
        return result
    }

    static func directorySize(_ directory: String) throws -> Int64 {
        try listFiles(directory).reduce(0) { $0 + (try FileSystem.status($1).size) }
    }

    /// The largest resident set of any child waited for so far, in bytes; an upper bound that includes this
    /// process's own memory (see `CLI`), used only when GNU time is not installed.
    static func childPeakRSS() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Int64(usage.ru_maxrss) * 1024
    }

    /// Flushes dirty pages left by the previous phase, so its writeback is not measured in the next one.
    static func settle() {
        sync()
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data("· \(message)\n".utf8))
    }
}

/// The release CLI, run as a child process so its time and memory are measured as a user would see them.
/// The release CLI, run as a child process so its time and memory are measured as a user would see them.
///
/// Its peak RSS is read through GNU time when installed: a child forked from this (large) benchmark process would
/// otherwise report this process's memory as its own peak, since fork copies the parent's resident set until exec.
final class CLI {
    let path: String
    let store: String
    private(set) var peakRSS: Int64 = 0
    private static let gnuTime = "/usr/bin/time"
    private static let marker = "velero-cas-max-rss-kib="

    init(path: String, store: String) {
        self.path = path
        self.store = store
    }

    var measuresRSS: Bool { FileManager.default.isExecutableFile(atPath: Self.gnuTime) }

    private func run(_ arguments: [String], what: String) throws -> String {
        let result =
            measuresRSS
            ? try Command.run(Self.gnuTime, ["-f", Self.marker + "%M", path] + arguments)
            : try Command.run(path, arguments)
        try result.check(what)
        if let line = result.errorOutput.split(separator: "\n").last(where: { $0.hasPrefix(Self.marker) }),
            let kib = Int64(line.dropFirst(Self.marker.count))
        {
            peakRSS = max(peakRSS, kib * 1024)
        }
        return result.output
    }

    /// Creates the store without encryption.
    func initPlain() throws {
        _ = try run(["store", "init", "--encryption", "none", "--store", store], what: "velero-cas store init")
    }

    func backup(_ source: String, name: String) throws -> Snapshot {
        let output = try run(
            ["store", "backup-dir", source, "--store", store, "--name", name, "-o", "json"],
            what: "velero-cas store backup-dir")
        return try StoreJSON.decode(Snapshot.self, from: Array(output.utf8), key: "backup output")
    }

    /// Deletes a snapshot and the chunks only it held (`store forget`, a gc); returns the seconds it took.
    func forget(_ name: String) throws -> Double {
        let start = ContinuousClock.now
        _ = try run(["store", "forget", name, "--confirm", "--store", store], what: "velero-cas store forget")
        return (ContinuousClock.now - start).seconds
    }

    func restore(_ name: String, into target: String) throws -> TreeRestore.Summary {
        let output = try run(
            ["store", "restore-dir", name, target, "--store", store, "-o", "json"], what: "velero-cas store restore-dir"
        )
        return try StoreJSON.decode(TreeRestore.Summary.self, from: Array(output.utf8), key: "restore output")
    }
}

struct Report {
    var rows: [[String]] = []
    mutating func row(_ cells: String...) { rows.append(cells) }

    func render(title: String) -> String {
        let header = ["MEASURE", "VALUE", "RATIO", "TARGET"]
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        let lines = ([header] + rows).map { row in
            row.enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([title] + lines).joined(separator: "\n")
    }
}

enum Format {
    static func rate(_ bytesPerSecond: Double) -> String { String(format: "%.0f MB/s", bytesPerSecond / 1e6) }
    static func mib(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}
