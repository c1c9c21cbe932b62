import ChunkStore
import Foundation

/// A backup as the store records it (`backups/<name>.json`), with Velero's phases. A backup is usable only once
/// its record says Completed (or PartiallyFailed): that write comes last, after everything it names is durable.
public struct BackupRecord: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable, CaseIterable {
        case new = "New", inProgress = "InProgress", completed = "Completed", partiallyFailed = "PartiallyFailed"
        case failed = "Failed", failedValidation = "FailedValidation", deleting = "Deleting"

        /// Whether a restore may use the backup.
        public var isRestorable: Bool { self == .completed || self == .partiallyFailed }
    }

    public static func key(_ name: String) -> String { "backups/\(name).json" }
    /// The backup's log, stored beside its record.
    public static func logKey(_ name: String) -> String { "backups/\(name).log" }

    public var name: String
    public var phase: Phase
    public var labels: [String: String]
    public var annotations: [String: String]
    public var filter: ResourceFilter
    public var snapshotVolumes: Bool
    /// Seconds; nil means the backup never expires.
    public var ttlSeconds: Int?
    public var storageLocation: String
    /// The volume snapshot locations the backup named (Velero's `spec.volumeSnapshotLocations`).
    public var volumeSnapshotLocations: [String]?
    public var cluster: String
    public var startTimestamp: Date
    public var completionTimestamp: Date?
    public var expiration: Date?
    public var itemsBackedUp: Int
    public var warnings: [String]
    public var errors: [String]
    /// The resource manifest record this backup committed (same name), once it exists.
    public var resourceManifest: String?
    public var summary: CollectionSummary?
    /// Persistent volume data backed up with the resources.
    public var volumes: [VolumeRecord] = []
    /// The pods' backup hooks that ran (server mode), in the order they ran.
    public var hooks: [HookRecord]?
    /// How node paths map to local ones, for the volume data.
    public var volumePathMap = VolumePathMap()
    /// This backup's identity in the reference state (`CommitID`), made when it starts; its volume snapshots and
    /// resource manifest carry it too. Nil only in records written before it existed.
    public var commit: String?
    /// The store lock of the process running the backup; when that lock is gone or stale while the record still
    /// says InProgress, the process died and the backup is Failed.
    public var lockID: String?

    /// The backup's identity in the reference state.
    public var owner: ReferenceOwner? { commit.map { .backup(name, commit: $0) } }

    public init(
        name: String, labels: [String: String] = [:], annotations: [String: String] = [:], filter: ResourceFilter,
        snapshotVolumes: Bool = true, ttlSeconds: Int?, storageLocation: String, cluster: String, start: Date = Date()
    ) {
        self.name = name
        phase = .new
        self.labels = labels
        self.annotations = annotations
        self.filter = filter
        self.snapshotVolumes = snapshotVolumes
        self.ttlSeconds = ttlSeconds
        self.storageLocation = storageLocation
        self.cluster = cluster
        startTimestamp = start
        expiration = ttlSeconds.map { start.addingTimeInterval(TimeInterval($0)) }
        itemsBackedUp = 0
        warnings = []
        errors = []
    }

    /// Every backup record in the store, newest first. A damaged record (it does not decode or authenticate) throws,
    /// unless `skippingDamaged` is given: then it is left out and handed to it with the reason. Only callers for whom
    /// a missing record is safe may skip one (listing, expiry by TTL); counting references must not.
    public static func list(
        _ repository: Repository, skippingDamaged: ((_ key: String, _ reason: ChunkStoreError) -> Void)? = nil
    ) async throws -> [BackupRecord] {
        var records: [BackupRecord] = []
        for object in try await repository.store.listAll(prefix: "backups/") where object.key.hasSuffix(".json") {
            do {
                if let record = try await repository.record(BackupRecord.self, key: object.key) {
                    records.append(record)
                }
            } catch let error as ChunkStoreError where error.isDamagedRecord {
                guard let skippingDamaged else { throw error }
                skippingDamaged(object.key, error)
            }
        }
        return records.sorted { $0.startTimestamp > $1.startTimestamp }
    }
}
