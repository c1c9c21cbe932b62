import ArgumentParser
import ChunkStore
import Collectors
import Foundation
import GarbageCollector

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Work with the deduplicating chunk store directly: back up and restore directory trees, show stats.",
        subcommands: [
            BackupDirCommand.self, RestoreDirCommand.self, SnapshotsCommand.self, ForgetCommand.self, StatsCommand.self,
            StoreInitCommand.self, StoreUnlockCommand.self, StoreKeyCommand.self, StoreMigrateCommand.self,
        ]
    )
}

struct BackupDirCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup-dir",
        abstract: "Back up a directory tree into the store as a named snapshot (incremental against the last one).")

    @Argument(help: "The directory to back up.") var path: String
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Snapshot name (lowercase letters, digits, '-', '.'); default: dir-<timestamp>.") var name: String?
    @Option(help: "Snapshot to compare against; default: the latest of the same directory on this host.")
    var parent: String?
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let name = self.name ?? "dir-" + Self.timestamp()
        try ResourceName.validate(name, what: "snapshot name")
        // A new store is written while the files are read (the backup's lock waits for it); an existing one's lock
        // is taken while its key is read and derived.
        let repository = try await storeOptions.openForWriting(
            deferringCreation: true, lockingAhead: "snapshot \(name)")
        let progress = TreeProgress()
        let reporter = ProgressReporter(label: "backing up", progress: progress)
        let snapshot: Snapshot
        do {
            snapshot = try await TreeBackup(repository: repository, progress: progress).run(
                source: path, name: name, parent: parent)
            reporter.stop()
        } catch {
            reporter.stop()
            throw error
        }
        try output.print(snapshot) {
            let summary = snapshot.summary
            print("snapshot \(snapshot.name) of \(snapshot.source) committed to \(repository.store.location)")
            var table = Table(header: [
                "FILES", "UNCHANGED", "LOGICAL", "NEW (PLAIN)", "NEW (STORED)", "DEDUP", "TIME", "SPEED",
            ])
            table.rows.append([
                "\(summary.files)", "\(summary.unchangedFiles)", Format.bytes(summary.logicalBytes),
                Format.bytes(summary.newPlainBytes), Format.bytes(summary.newStoredBytes),
                Format.ratio(
                    summary.newStoredBytes == 0 ? 0 : Double(summary.logicalBytes) / Double(summary.newStoredBytes)),
                Format.seconds(summary.seconds), Format.rate(summary.logicalBytes, seconds: summary.seconds),
            ])
            print(table.render())
        }
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

struct RestoreDirCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-dir", abstract: "Restore a snapshot's directory tree into a target directory.")

    @Argument(help: "The snapshot to restore.") var snapshot: String
    @Argument(help: "Target directory; must be empty or absent unless --overwrite.") var target: String
    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Restore into a non-empty target, replacing files that are in the way.") var overwrite = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        // The restore's lock is taken while the store's key is read and derived.
        let repository = try await storeOptions.openExisting(lockingAhead: "restore \(snapshot)")
        let progress = TreeProgress()
        let reporter = ProgressReporter(label: "restoring", progress: progress)
        let summary: TreeRestore.Summary
        do {
            summary = try await TreeRestore(repository: repository, progress: progress).run(
                snapshot: snapshot, into: target, overwrite: overwrite)
            reporter.stop()
        } catch {
            reporter.stop()
            throw error
        }
        try output.print(summary) {
            print("restored snapshot \(snapshot) into \(target)")
            var table = Table(header: ["FILES", "DIRECTORIES", "SYMLINKS", "BYTES", "TIME", "SPEED"])
            table.rows.append([
                "\(summary.files)", "\(summary.directories)", "\(summary.symlinks)", Format.bytes(summary.bytes),
                Format.seconds(summary.seconds), Format.rate(summary.bytes, seconds: summary.seconds),
            ])
            print(table.render())
        }
    }
}

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List the directory snapshots in the store.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let snapshots = try await SnapshotCatalog(repository: repository).all()
        try output.print(snapshots) {
            var table = Table(header: ["NAME", "CREATED", "SOURCE", "FILES", "LOGICAL", "NEW (STORED)", "PARENT"])
            for snapshot in snapshots {
                table.rows.append([
                    snapshot.name, Format.date(snapshot.createdAt), snapshot.source, "\(snapshot.summary.files)",
                    Format.bytes(snapshot.summary.logicalBytes), Format.bytes(snapshot.summary.newStoredBytes),
                    snapshot.parent ?? "-",
                ])
            }
            print(table.render())
        }
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show how much the store holds and how well it dedups and compresses.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var global: GlobalOptions

    struct Stats: Encodable {
        var snapshots: Int
        var backups: Int
        var logicalBytes: Int64
        var uniqueBytes: Int64
        var storedBytes: Int64
        var chunks: Int
        var dedupRatio: Double
        var compressionRatio: Double
        var orphanedChunks: Int
        var orphanedBytes: Int64
    }

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let report = try await StoreVerifier(repository: repository).verify(readData: false)
        let stats = Stats(
            snapshots: report.snapshots, backups: report.resourceManifests, logicalBytes: report.logicalBytes,
            uniqueBytes: report.uniqueBytes, storedBytes: report.storedBytes, chunks: report.storedChunks,
            dedupRatio: report.dedupRatio, compressionRatio: report.compressionRatio,
            orphanedChunks: report.orphanedChunks, orphanedBytes: report.orphanedBytes)
        try output.print(stats) {
            var table = Table(header: [
                "SNAPSHOTS", "BACKUPS", "LOGICAL", "UNIQUE", "STORED", "CHUNKS", "DEDUP", "COMPRESSION", "ORPHANED",
            ])
            table.rows.append([
                "\(stats.snapshots)", "\(stats.backups)", Format.bytes(stats.logicalBytes),
                Format.bytes(stats.uniqueBytes),
                Format.bytes(stats.storedBytes), "\(stats.chunks)", Format.ratio(stats.dedupRatio),
                Format.ratio(stats.compressionRatio), Format.bytes(stats.orphanedBytes),
            ])
            print(table.render())
        }
    }
}

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget", abstract: "Delete directory snapshots and every chunk nothing else references.")

    @Argument(help: "The snapshots to delete.") var names: [String]
    @Flag(help: "Confirm the deletion.") var confirm = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        guard !names.isEmpty else { throw ValidationError("name at least one snapshot to forget") }
        guard confirm else { throw ValidationError("forgetting snapshots needs --confirm") }
        let repository = try await storeOptions.openExisting()
        let result = try await GarbageCollector(repository: repository).run(forgetSnapshots: names)
        GCCommand.printSummary(result)
    }
}
