import BackupModel
import ChunkStore
import Foundation
import Logging

/// Expires backups and frees the chunks nothing references any more, safely while other processes back up.
///
/// Under the exclusive lock, so no backup runs meanwhile:
/// 1. a store without the current reference state (older format, or `rebuildCounts`) gets lists for every committed
///    owner, rebuilt from the manifests;
/// 2. the reference lists of newly committed snapshots and backups are added to the counts (a list whose record
///    does not name its commit never committed, and is discarded);
/// 3. interrupted expiries are finished (their journals);
/// 4. backups a dead process left InProgress are marked Failed (with the volume snapshots they committed);
/// 5. each backup to expire gets a journal, its chunks' counts are decremented, chunks at zero are deleted, then its
///    list and, only where they still name its commit, its records, log and restores.
/// Every step is idempotent and keyed by commit identity, never by name, so a crash at any point is repaired by
/// running again and a recreated name is never confused with the owner it replaced. Cost follows the expired
/// backups and the backups made since the last run, not the size of the store.
public struct GarbageCollector: Sendable {
    public let repository: Repository
    private let logger = Logger(label: "velero-cas.gc")

    public init(repository: Repository) { self.repository = repository }

    public struct Result: Codable, Sendable {
        public var expired: [String] = []
        public var counted: [String] = []
        public var discarded: [String] = []
        /// Backups a dead process left InProgress, now Failed.
        public var failed: [String] = []
        /// Chunks dropped from the index (no longer stored).
        public var deletedChunks = 0
        /// Bytes given back: packs deleted, less the packs written to keep their live chunks.
        public var deletedBytes: Int64 = 0
        /// Packs deleted, and how many of them were repacked first.
        public var deletedPacks = 0
        public var repackedPacks = 0
        public var orphans = 0
        /// Temporary files of killed writers that were removed (by an orphan sweep).
        public var interruptedWrites = 0
        /// Small index objects merged into larger ones.
        public var mergedIndexObjects = 0
    }

    /// The key whose content says which reference-state format the store has (absent before commit identities).
    static let versionKey = "refs/version"
    static let currentVersion = "3"

    /// Runs a collection. A plain run expires the backups whose expiration is before `now`; a run with `delete` or
    /// `forgetSnapshots` removes just those (so deleting one backup does not expire others as a side effect).
    /// With `orphans`, also deletes every chunk no committed snapshot or backup references (left by crashed
    /// backups). That reads all reference counts and lists every chunk: it costs the whole store, so it is opt-in.
    public func run(
        now: Date = Date(), delete: [String] = [], forgetSnapshots: [String] = [], orphans: Bool = false,
        rebuildCounts: Bool = false, lockWait: Duration = .seconds(60)
    ) async throws -> Result {
        try await StoreLock.withLock(.exclusive, repository: repository, operation: "gc", wait: lockWait) {
            var run = Run(repository: repository, logger: logger)
            try await run.collect(
                now: now, delete: delete, forgetSnapshots: forgetSnapshots, rebuild: rebuildCounts)
            if orphans {
                try await run.sweepOrphans()
                // Also a full scan: temporary files of killed writers (none is live while this lock is held, but a
                // writer of an unlocked object may be, so only old ones go).
                run.result.interruptedWrites = try await repository.store.removeInterruptedWrites(
                    olderThan: repository.config.lockStaleAfter)
            }
            // Every commit writes an index object; many small ones are merged so opening the store stays cheap.
            run.result.mergedIndexObjects = try await repository.consolidateIndex()
            try await repository.store.sync()
            return run.result
        }
    }

    /// Chunks whose stored count differs from a recount of the counted lists (those without a pending marker); the
    /// counts can always be rebuilt from those lists, and the lists from the manifests.
    public func countMismatches() async throws -> [String] {
        var pending = Set<String>()
        for object in try await repository.store.listAll(prefix: "refs/pending/") {
            pending.insert(String(object.key.dropFirst("refs/pending/".count)))
        }
        var expected: [ChunkID: Int] = [:]
        for object in try await repository.store.listAll(prefix: "refs/lists/") {
            let commit = String(object.key.dropFirst("refs/lists/".count))
            guard CommitID.isValid(commit), !pending.contains(commit) else { continue }
            let owner = ReferenceOwner.snapshot("", commit: commit)
            for id in try await ReferenceList.read(owner, repository: repository) ?? [] {
                expected[id, default: 0] += 1
            }
        }
        let actual = try await ReferenceCounts(repository: repository).all()
        return Set(expected.keys).union(actual.keys).filter { expected[$0] != actual[$0] }.map(\.hex).sorted()
    }

    /// The longest applied-operation memory of any count shard: bounded by the operations under way, not by history.
    public func appliedOperationMemory() async throws -> Int {
        try await ReferenceCounts(repository: repository).allShards().maxApplied
    }
}

/// One collection's state: the result so far and the operations whose markers exist.
private struct Run {
    let repository: Repository
    let logger: Logger
    var result = GarbageCollector.Result()
    /// Operations that may still be applied (their pending marker or journal exists); count shards forget others.
    var active: Set<String> = []

    init(repository: Repository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    var counts: ReferenceCounts { ReferenceCounts(repository: repository) }

    mutating func collect(now: Date, delete: [String], forgetSnapshots: [String], rebuild: Bool) async throws {
        switch try await referenceStateVersion() {
        case GarbageCollector.currentVersion where !rebuild: break
        case nil where !rebuild: try await adoptAll()
        default:
            // An explicit rebuild, or counts in an older layout: derived data, rebuilt from the manifests.
            try await dropReferenceState()
            try await adoptAll()
        }
        // Markers that exist now; no backup can add one while the exclusive lock is held.
        let pending = try await markers("refs/pending/")
        let journals = try await markers("refs/expiring/")
        active = Set(pending.map(\.incrementOperation) + journals.map(\.decrementOperation))
        // Finish pack retirements a crash interrupted (their packs may hold chunks the expiries below look for).
        record(try await repository.finishInterruptedRepacking())

        // What expires in this run: expiries a crash interrupted (a backup's journal stands for its whole deletion,
        // volume snapshots included), then what is past its TTL or asked for. Every journal is durable before any
        // count changes.
        var expiring = Expiring()
        for owner in journals {
            if owner.kind == .backup,
                let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(owner.name)),
                record.commit == owner.commit
            {
                try await prepare(backup: record, into: &expiring)
            } else {
                expiring.add(owner)
            }
        }
        for backup in try await targets(now: now, delete: delete) { try await prepare(backup: backup, into: &expiring) }
        for name in forgetSnapshots { expiring.add(try await snapshotOwner(name)) }
        for owner in expiring.owners where !active.contains(owner.decrementOperation) { try await writeJournal(owner) }
        try await repository.store.sync()

        // One pass over the shards: the lists committed since the last run are added and the expiring owners' lists
        // taken away, each shard written once for both. Lists of owners that never committed are discarded.
        var operations: [ReferenceCounts.Operation] = []
        var zero = Set<ChunkID>()
        var batched = 0
        func flush() async throws {
            // Memory stays bounded: a pass for every million ids or so. Increments always come in an earlier or the
            // same pass as the decrements after them.
            zero.formUnion(try await counts.apply(operations, active: active))
            operations.removeAll()
            batched = 0
        }
        for owner in pending {
            if try await CommittedOwners.isCommitted(owner, repository: repository),
                let ids = try await ReferenceList.read(owner, repository: repository)
            {
                operations.append(.init(name: owner.incrementOperation, ids: ids, delta: 1))
                batched += ids.count
                result.counted.append(owner.description)
                if batched > 1_000_000 { try await flush() }
            } else {
                try await repository.store.delete(owner.listKey)
                result.discarded.append(owner.description)
                logger.warning(
                    "\(owner) never committed (its process stopped); its chunks are left for an orphan sweep")
            }
        }
        for owner in expiring.owners {
            guard let ids = try await ReferenceList.read(owner, repository: repository) else { continue }
            operations.append(.init(name: owner.decrementOperation, ids: ids, delta: -1))
            batched += ids.count
            if batched > 1_000_000 { try await flush() }
        }
        try await flush()
        // Barriers: the counts are durable before the markers and lists that let a rerun redo them go, and the
        // markers are gone for good before any later shard write forgets their operations (a power cut may persist
        // writes of different directories in any order).
        try await repository.store.sync()
        for owner in pending { try await repository.store.delete(owner.pendingKey) }
        try await repository.store.sync()
        active.subtract(pending.map(\.incrementOperation))
        try await StoreLock.ensureHeld()
        record(try await repository.removeChunks(zero))
        for owner in expiring.owners { try await finishExpiry(owner) }
        try await repository.store.sync()
        for owner in expiring.owners { try await repository.store.delete(owner.journalKey) }
        try await repository.store.sync()
        for owner in expiring.owners {
            active.remove(owner.decrementOperation)
            result.expired.append(owner.description)
            logger.info("expired \(owner)")
        }
    }

    /// The reference-state layout the store has: nil before commit identities, "2" with JSON count shards.
    private func referenceStateVersion() async throws -> String? {
        do {
            let version = String(decoding: try await repository.store.get(GarbageCollector.versionKey), as: UTF8.self)
            guard ["2", GarbageCollector.currentVersion].contains(version) else {
                throw ChunkStoreError.corruptRecord(
                    key: GarbageCollector.versionKey,
                    reason: "reference state version '\(version)' is not one this velero-cas knows (2 or 3); "
                        + "a newer velero-cas wrote it")
            }
            return version
        } catch ChunkStoreError.objectNotFound {
            return nil
        }
    }

    /// The backups this run expires: a plain run reads every backup record, expires what is past its TTL and fails
    /// what a dead process left InProgress (no live lock exists while this one is held, so nobody is running it);
    /// a run with `delete` takes just those.
    private mutating func targets(now: Date, delete: [String]) async throws -> [BackupRecord] {
        var targets: [BackupRecord] = []
        if delete.isEmpty {
            // A damaged record is left for an operator (it cannot be judged expired); the others still expire. Skipping
            // it is safe: its chunks keep the counts its commit gave them.
            var all = try await BackupRecord.list(repository) { [logger] key, reason in
                logger.warning("expiry skips backup record \(key): \(reason)")
            }
            for index in all.indices where all[index].phase == .inProgress || all[index].phase == .new {
                all[index] = try await failAbandoned(all[index])
            }
            targets = all.filter { $0.expiration.map { $0 < now } ?? false }
        }
        for name in delete {
            guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
                throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
            }
            targets.append(record)
        }
        return targets
    }

    /// A standalone snapshot (`store backup-dir`) to forget; it has no TTL and goes when asked.
    private func snapshotOwner(_ name: String) async throws -> ReferenceOwner {
        guard var snapshot = try await repository.record(Snapshot.self, key: Snapshot.key(name)) else {
            throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
        }
        if snapshot.commit == nil {
            // Written before commit identities and never adopted (not counted): give it one to expire under.
            snapshot.commit = CommitID.make()
            try await repository.commitRecord(snapshot, key: Snapshot.key(name))
        }
        return snapshot.owner!
    }

    private func markers(_ prefix: String) async throws -> [ReferenceOwner] {
        var owners: [ReferenceOwner] = []
        for object in try await repository.store.listAll(prefix: prefix) {
            guard let owner = try await ReferenceList.marker(object.key, repository: repository) else { continue }
            owners.append(owner)
        }
        return owners
    }

    /// A backup left InProgress by a process that died: Failed, keeping the volume snapshots it committed (found by
    /// their backup commit), so they expire with it.
    private mutating func failAbandoned(_ backup: BackupRecord) async throws -> BackupRecord {
        var record = backup
        record.phase = .failed
        record.errors.append("the process running the backup stopped before it finished (its store lock went stale)")
        record.completionTimestamp = record.completionTimestamp ?? Date()
        if let commit = record.commit {
            let known = Set(record.volumes.compactMap(\.snapshot))
            for snapshot in try await SnapshotCatalog(repository: repository).all()
            where snapshot.backupCommit == commit && !known.contains(snapshot.name) {
                var volume = VolumeRecord.unreachable(
                    persistentVolume: String(snapshot.name.dropFirst(record.name.count + ".pv.".count)),
                    path: snapshot.source, reason: "the backup stopped before it finished")
                volume.snapshot = snapshot.name
                volume.skipped = nil
                record.volumes.append(volume)
            }
        }
        try await repository.commitRecord(record, key: BackupRecord.key(record.name))
        result.failed.append(record.name)
        logger.warning("backup \(record.name) was left InProgress by a process that is gone; marked Failed")
        return record
    }

    /// Adds a backup and the volume snapshots it made to what expires. The backup's journal is written first (by
    /// the caller, in this order) and stands for the whole deletion: a crash anywhere after it is finished by the
    /// next run as a deletion of the backup, so a backup is never left Completed without its volumes.
    private mutating func prepare(backup: BackupRecord, into expiring: inout Expiring) async throws {
        var backup = backup
        if backup.commit == nil {
            // Never committed, or written before commit identities: its identity comes first, in its record.
            backup.commit = CommitID.make()
            try await repository.commitRecord(backup, key: BackupRecord.key(backup.name))
        }
        let owner = backup.owner!
        try await writeJournal(owner)
        try await repository.store.sync()
        expiring.add(owner)
        if backup.phase != .deleting {
            backup.phase = .deleting
            try await repository.commitRecord(backup, key: BackupRecord.key(backup.name))
        }
        for volume in backup.volumes {
            guard let name = volume.snapshot,
                var snapshot = try await repository.record(Snapshot.self, key: Snapshot.key(name))
            else { continue }
            // Only the snapshot this backup made, not a later one that reuses the name.
            guard snapshot.backupCommit == nil || snapshot.backupCommit == backup.commit else { continue }
            if snapshot.commit == nil {
                snapshot.commit = CommitID.make()
                try await repository.commitRecord(snapshot, key: Snapshot.key(name))
            }
            expiring.add(snapshot.owner!)
        }
    }

    /// Writes the owner's expiry journal (made durable by the caller's sync before anything is decremented).
    private mutating func writeJournal(_ owner: ReferenceOwner) async throws {
        try await repository.store.put(owner.journalKey, try StoreJSON.encode(owner, pretty: false))
        active.insert(owner.decrementOperation)
    }

    /// After its decrements are durable and its chunks at zero removed: deletes the owner's list, then the records
    /// that still name its commit. Its journal goes after the caller's sync.
    private func finishExpiry(_ owner: ReferenceOwner) async throws {
        try await repository.store.delete(owner.listKey)
        try await repository.store.delete(owner.pendingKey)
        switch owner.kind {
        case .snapshot:
            if try await repository.record(Snapshot.self, key: Snapshot.key(owner.name))?.commit == owner.commit {
                try await repository.store.delete(Snapshot.key(owner.name))
            }
        case .backup:
            // Each object goes when it names this commit, whether or not the backup record is still there: a power
            // cut during an earlier run may have kept one deletion and undone another (the record gone, its resource
            // manifest back), and the rerun must still finish the rest. Objects without a commit (older records) go
            // only while the record is this commit's, and the log only while no other backup of the name holds it.
            let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(owner.name))
            let ours = record?.commit == owner.commit
            for restore in try await repository.store.listAll(prefix: "restores/") where restore.key.hasSuffix(".json")
            {
                guard let made = try? await repository.record(RestoreRecord.self, key: restore.key),
                    made.backup == owner.name, made.backupCommit == owner.commit || (made.backupCommit == nil && ours)
                else { continue }
                try await repository.store.delete(restore.key)
                try await repository.store.delete(String(restore.key.dropLast(5)) + ".log")
            }
            let manifest = try await repository.record(
                ResourceManifestRecord.self, key: ResourceManifestRecord.key(owner.name))
            if let manifest, manifest.commit == owner.commit || (manifest.commit == nil && ours) {
                try await repository.store.delete(ResourceManifestRecord.key(owner.name))
            }
            if ours || record == nil { try await repository.store.delete(BackupRecord.logKey(owner.name)) }
            // The record goes last: it is what says the other objects are this commit's.
            if ours { try await repository.store.delete(BackupRecord.key(owner.name)) }
        }
    }

    /// Forgets the counts and lists (not the journals of unfinished expiries), so the adoption pass rebuilds them
    /// from the manifests: the reference state is derived data and can always be rebuilt.
    private func dropReferenceState() async throws {
        // The version marker goes first (and durably), so a crash part-way leaves a store that is adopted again.
        try await repository.store.delete(GarbageCollector.versionKey)
        try await repository.store.sync()
        for prefix in ["refs/counts/", "refs/lists/", "refs/pending/"] {
            for object in try await repository.store.listAll(prefix: prefix) {
                try await repository.store.delete(object.key)
            }
        }
        try await repository.store.delete(GarbageCollector.versionKey)
        try await repository.store.delete("refs/adopted")
    }

    /// Gives every committed owner a commit identity (records written before they existed) and a reference list
    /// rebuilt from its manifests, with a pending marker so this run counts it. Runs once per store (and after a
    /// rebuild); reference state of the older, name-keyed format is dropped first, and expiries it had under way
    /// are finished by removing what they named (their chunks are left to an orphan sweep).
    private mutating func adoptAll() async throws {
        // Older format: lists and markers keyed by name ("refs/lists/snapshots/x", "refs/pending/backups-x").
        for object in try await repository.store.listAll(prefix: "refs/expiring/") {
            let name = String(object.key.dropFirst("refs/expiring/".count))
            guard !CommitID.isValid(name) else { continue }
            if name.hasPrefix("snapshots-") {
                try await repository.store.delete(Snapshot.key(String(name.dropFirst("snapshots-".count))))
            } else if name.hasPrefix("backups-") {
                let backup = String(name.dropFirst("backups-".count))
                try await repository.store.delete(ResourceManifestRecord.key(backup))
                try await repository.store.delete(BackupRecord.logKey(backup))
                try await repository.store.delete(BackupRecord.key(backup))
            }
            try await repository.store.delete(object.key)
        }
        for prefix in ["refs/lists/", "refs/pending/", "refs/counts/"] {
            for object in try await repository.store.listAll(prefix: prefix) {
                let last = String(object.key.split(separator: "/").last ?? "")
                if prefix == "refs/counts/" || !CommitID.isValid(last)
                    || object.key.dropFirst(prefix.count).contains("/")
                {
                    try await repository.store.delete(object.key)
                }
            }
        }
        try await repository.store.delete("refs/adopted")
        for var entry in try await CommittedOwners.all(repository) {
            if entry.owner.commit.isEmpty {
                entry.owner.commit = try await assignCommit(entry)
            }
            guard try await repository.store.size(of: entry.owner.listKey) == nil else { continue }
            let refs = try await CommittedOwners.referencedChunks(entry, repository: repository)
            // Rebuilt from manifests as they are: a chunk a damaged store lacks is for `verify` to report.
            try await ReferenceList.write(
                refs.map(\.id), owner: entry.owner, repository: repository, requireStored: false)
        }
        // Every list and marker is durable before the store says it has the current reference state.
        try await repository.store.sync()
        try await repository.store.put(GarbageCollector.versionKey, Array(GarbageCollector.currentVersion.utf8))
    }

    /// Rewrites a record written before commit identities with one (and its resource manifest, for a backup).
    private func assignCommit(_ entry: CommittedOwners.Entry) async throws -> String {
        let commit = CommitID.make()
        switch entry.owner.kind {
        case .snapshot:
            guard var snapshot = try await repository.record(Snapshot.self, key: entry.recordKey) else { return commit }
            snapshot.commit = commit
            try await repository.commitRecord(snapshot, key: entry.recordKey)
        case .backup:
            let manifestKey = ResourceManifestRecord.key(entry.owner.name)
            if var manifest = try await repository.record(ResourceManifestRecord.self, key: manifestKey) {
                manifest.commit = commit
                try await repository.commitRecord(manifest, key: manifestKey)
            }
            guard var backup = try await repository.record(BackupRecord.self, key: entry.recordKey) else {
                return commit
            }
            backup.commit = commit
            try await repository.commitRecord(backup, key: entry.recordKey)
        }
        return commit
    }

    /// Chunks the index names that no count holds (killed writers, discarded lists) are removed, and packs no
    /// index object names (a writer died before its index) once older than the stale threshold.
    mutating func sweepOrphans() async throws {
        let counted = try await counts.all()
        let orphans = await repository.indexedChunks().keys.filter { counted[$0] == nil }
        try await StoreLock.ensureHeld()
        record(try await repository.removeChunks(Set(orphans)))
        result.orphans += orphans.count
        let (packs, bytes) = try await repository.removeUnindexedPacks(olderThan: repository.config.lockStaleAfter)
        result.deletedPacks += packs
        result.deletedBytes += bytes
    }

    private mutating func record(_ removal: PackRemoval) {
        result.deletedChunks += removal.removedEntries
        result.deletedBytes += removal.freedBytes
        result.deletedPacks += removal.deletedPacks
        result.repackedPacks += removal.repackedPacks
    }
}

/// The owners one collection expires, in the order their journals were written, each once.
private struct Expiring {
    private(set) var owners: [ReferenceOwner] = []
    private var seen: Set<String> = []

    mutating func add(_ owner: ReferenceOwner) {
        if seen.insert(owner.commit).inserted { owners.append(owner) }
    }
}
