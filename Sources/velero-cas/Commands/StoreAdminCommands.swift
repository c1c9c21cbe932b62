import ArgumentParser
import ChunkStore
import Foundation

/// `store init`: creates a store with settings that are the store's, not any one process's.
struct StoreInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store (other write commands create one with the defaults when there is none).")

    @Option(
        help: ArgumentHelp(
            "How long a lock may go unrefreshed, by the store's clock, before it counts as a crashed process's (Go duration).",
            discussion: "Every process sharing the store uses this value; holders refresh six times per period."))
    var lockStaleAfter = "30m"
    @Option(help: "aes-256-gcm (the default: every object encrypted, chunk ids keyed) or none (plain objects).")
    var encryption = "aes-256-gcm"
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let seconds: Int?
        do { seconds = try GoDuration.parse(lockStaleAfter) } catch {
            throw ValidationError(
                "--lock-stale-after '\(lockStaleAfter)' is not a duration; use Go syntax such as 30m or 90s")
        }
        guard let seconds, seconds >= 1 else {
            throw ValidationError("--lock-stale-after '\(lockStaleAfter)' must be at least 1s")
        }
        guard let mode = RepositoryConfig.Encryption(rawValue: encryption) else {
            throw ValidationError("--encryption '\(encryption)' must be aes-256-gcm or none")
        }
        if (try? await Repository.readConfig(try await storeOptions.rawStore())) != nil {
            throw ValidationError(
                "a store already exists at \(try storeOptions.locationName); its settings stay as they are")
        }
        let repository = try await storeOptions.openForWriting(
            config: RepositoryConfig(lockStaleSeconds: seconds, encryption: mode))
        print(
            "created store \(repository.store.location) (id \(repository.config.id), \(mode == .none ? "not encrypted" : "encrypted with \(mode.rawValue)"), locks stale after \(seconds) s)"
        )
    }
}

/// `store unlock`: shows the store's locks and removes stale ones (or named ones, when their process is known gone).
struct StoreUnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "List the store's locks; remove stale ones, or the named ones whose process you know is gone.")

    @Argument(help: "Ids of locks to remove even though they are not stale (only when their process is gone).")
    var ids: [String] = []
    @Flag(help: "Remove the locks that are stale by the store's clock.") var removeStale = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    struct Row: Encodable {
        var id: String
        var kind: String
        var operation: String
        var host: String
        var pid: Int32
        var refreshes: Int?
        var lastWritten: Date?
        var stale: Bool
        var unreadable: String?
    }

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let live = try await StoreLock.liveLockIDs(repository)
        let observed = try await StoreLock.observe(repository)
        let known = Set(observed.map(\.record.id))
        for id in ids where !known.contains(id) {
            throw ValidationError("no lock with id '\(id)' in \(repository.store.location)")
        }
        var removed: [String] = []
        for lock in observed where ids.contains(lock.record.id) || (removeStale && !live.contains(lock.record.id)) {
            try await repository.store.delete(lock.key)
            removed.append(lock.record.id)
        }
        let rows = observed.map { lock in
            Row(
                id: lock.record.id, kind: lock.record.kind.rawValue, operation: lock.record.operation,
                host: lock.record.host, pid: lock.record.pid, refreshes: lock.record.sequence,
                lastWritten: lock.modified, stale: !live.contains(lock.record.id), unreadable: lock.unreadable)
        }
        try output.print(rows) {
            var table = Table(header: ["ID", "KIND", "OPERATION", "HOST", "PID", "STALE", "STATE"])
            for row in rows {
                table.rows.append([
                    row.id, row.kind, row.operation, row.host, String(row.pid), row.stale ? "yes" : "no",
                    removed.contains(row.id) ? "removed" : (row.unreadable.map { "unreadable: \($0)" } ?? "held"),
                ])
            }
            print(rows.isEmpty ? "no locks" : table.render(), terminator: rows.isEmpty ? "\n" : "")
        }
    }
}

/// `store migrate`: converts a store written before packs (one object per chunk) to packs, in place.
struct StoreMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Convert a store of format 1 or 2 (one object per chunk) to format 3 (chunks in packs).",
        discussion: """
            Runs under the store's exclusive lock. Safe to interrupt: run it again and it continues; no chunk is \
            deleted before the pack that holds it is durable and indexed. A store already in format 3 is left as it is.
            """)

    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openAnyFormat()
        let from = repository.config.version
        let progress: @Sendable (LegacyMigration.Result) -> Void = { result in
            if output == .table {
                FileHandle.standardError.write(Data("packed \(result.chunks + result.alreadyPacked) chunks\n".utf8))
            }
        }
        let result = try await LegacyMigration.migrate(repository, progress: progress)
        try output.print(result) {
            if from >= RepositoryConfig.packsVersion {
                print("store \(repository.store.location) is already in format \(from); nothing to do")
            } else {
                print(
                    "migrated \(repository.store.location) from format \(from) to \(RepositoryConfig.currentVersion): \(result.chunks) chunks (\(result.bytes) bytes) into \(result.packs) packs"
                )
            }
        }
        if !result.damaged.isEmpty {
            for line in result.damaged { FileHandle.standardError.write(Data("damaged: \(line)\n".utf8)) }
            throw ValidationError(
                "\(result.damaged.count) chunk(s) are damaged and stay where they are; the store keeps format \(from) until `verify --read-data` and a repair deal with them"
            )
        }
    }
}
