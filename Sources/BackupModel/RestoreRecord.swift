import ChunkStore
import Foundation

/// A restore as the store records it (`restores/<name>.json`): what was asked, the phase, and every item's result.
public struct RestoreRecord: Codable, Sendable {
    public static func key(_ name: String) -> String { "restores/\(name).json" }
    /// The restore's log, stored beside its record.
    public static func logKey(_ name: String) -> String { "restores/\(name).log" }

    public var name: String
    public var backup: String
    public var options: RestoreOptions
    public var phase: RestoreResult.Phase
    public var startTimestamp: Date
    public var completionTimestamp: Date
    public var created: Int
    public var updated: Int
    public var skipped: Int
    public var failed: Int
    public var warnings: [String]
    public var errors: [String]
    public var items: [RestoreItemResult]
    public var volumes: [VolumeRestoreResult] = []
    /// The commit of the backup it restored from, so deleting that backup removes exactly its restores even when
    /// the name has been reused since.
    public var backupCommit: String?
    /// Labels and annotations of the restore itself (`--labels`, `--annotations`), as on Velero's Restore object.
    public var labels: [String: String]?
    public var annotations: [String: String]?
    /// The restored pods' exec hooks (`restore describe`).
    public var hooks: [HookRecord]?

    public init(name: String, backup: String, options: RestoreOptions, started: Date, result: RestoreResult) {
        self.name = name
        self.backup = backup
        self.options = options
        phase = result.phase
        startTimestamp = started
        completionTimestamp = Date()
        created = result.count(.created)
        updated = result.count(.updated)
        skipped = result.count(.skipped) + result.count(.skippedExists)
        failed = result.count(.failed)
        warnings = result.warnings
        errors = result.errors
        items = result.items
        hooks = result.hooks
    }

    /// A restore that did not start because its options or its configuration in the cluster were invalid.
    public static func failedValidation(
        name: String, backup: String, options: RestoreOptions, started: Date, error: String
    ) -> RestoreRecord {
        var record = RestoreRecord(
            name: name, backup: backup, options: options, started: started,
            result: RestoreResult(phase: .failedValidation, items: [], warnings: [], seconds: 0))
        record.errors = [error]
        return record
    }

    /// Every restore record, newest first.
    public static func list(_ repository: Repository) async throws -> [RestoreRecord] {
        var records: [RestoreRecord] = []
        for object in try await repository.store.listAll(prefix: "restores/") where object.key.hasSuffix(".json") {
            if let record = try await repository.record(RestoreRecord.self, key: object.key) { records.append(record) }
        }
        return records.sorted { $0.startTimestamp > $1.startTimestamp }
    }
}
