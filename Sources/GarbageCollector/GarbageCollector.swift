import ChunkStore
import Collectors
import Foundation
import Logging

/// Expires backups and frees the chunks nothing references any more, safely while other processes back up.
///
/// Under the exclusive lock, so no backup runs meanwhile: (1) interrupted expiries are finished, (2) the reference
/// lists of newly committed snapshots and backups are added to the counts, (3) each backup to expire gets a journal,
/// its chunks' counts are decremented, chunks at zero are deleted, then its lists, records and journal. Every step
/// is idempotent, so a crash at any point is repaired by running again. Cost follows the expired backups and the
/// backups made since the last run, not the size of the store.
public struct GarbageCollector: Sendable {
    public let repository: Repository
    private let logger = Logger(label: "velero-cas.gc")

    public init(repository: Repository) { self.repository = repository }

    public struct Result: Codable, Sendable {
        public var expired: [String] = []
        public var counted: [String] = []
        public var discarded: [String] = []
        public var deletedChunks = 0
        public var deletedBytes: Int64 = 0
        public var orphans = 0
    }

    /// Runs a collection. A plain run expires the backups whose expiration is before `now`; a run with `delete` or
    /// `forgetSnapshots` removes just those (so deleting one backup does not expire others as a side effect).
    /// With `orphans`, also deletes every chunk no committed snapshot or backup references (left by crashed
    /// backups). That reads all reference counts and lists every chunk: it costs the whole store, so it is opt-in.
    public func run(
        now: Date = Date(), delete: [String] = [], forgetSnapshots: [String] = [], orphans: Bool = false,
        rebuildCounts: Bool = false, lockWait: Duration = .seconds(60)
    ) async throws -> Result {
        try await StoreLock.withLock(.exclusive, repository: repository, operation: "gc", wait: lockWait) {
            if rebuildCounts { try await dropReferenceState() }
            var result = try await collect(now: now, delete: delete, forgetSnapshots: forgetSnapshots)
            if orphans { try await sweepOrphans(result: &result) }
            return result
        }
    }

    private func collect(now: Date, delete: [String], forgetSnapshots: [String]) async throws -> Result {
        var result = Result()
        // 1. Finish expiries a crash interrupted.
        for object in try await repository.store.listAll(prefix: "refs/expiring/") {
            guard let owner = ReferenceOwner(marker: String(object.key.split(separator: "/").last ?? "")) else {
                continue
            }
            try await expire(owner, result: &result)
        }
        // 2. Count what was committed since the last run; discard lists of owners that never committed.
        for object in try await repository.store.listAll(prefix: "refs/pending/") {
            guard let owner = ReferenceOwner(marker: String(object.key.split(separator: "/").last ?? "")) else {
                continue
            }
            if try await isCommitted(owner), let ids = try await ReferenceList.read(owner, repository: repository) {
                _ = try await ReferenceCounts(repository: repository).apply("+\(owner)", ids: ids, delta: 1)
                result.counted.append(owner.description)
            } else {
                try await repository.store.delete(owner.listKey)
                result.discarded.append(owner.description)
                logger.warning(
                    "\(owner) never committed (its process stopped); its chunks are left for an orphan sweep")
            }
            try await repository.store.delete(owner.pendingKey)
        }
        // 2b. Committed owners with no list at all (made before reference counting) are listed from their manifests
        // and counted, so none of their chunks can reach zero while they use them.
        try await adoptUnlisted(result: &result)
        // 3. Expire.
        // A plain run expires what is past its TTL; an explicit deletion handles just the named backups (and does
        // not read every record).
        var targets: [BackupRecord] = []
        if delete.isEmpty && forgetSnapshots.isEmpty {
            targets = try await BackupPipeline.list(repository).filter { $0.expiration.map { $0 < now } ?? false }
        }
        for name in delete {
            guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
                throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
            }
            targets.append(record)
        }
        for var backup in targets {
            try await repository.store.put(ReferenceOwner.backup(backup.name).journalKey, [])
            backup.phase = .deleting
            try await repository.commitRecord(backup, key: BackupRecord.key(backup.name))
            for volume in backup.volumes {
                if let snapshot = volume.snapshot {
                    try await repository.store.put(ReferenceOwner.snapshot(snapshot).journalKey, [])
                }
            }
            for volume in backup.volumes {
                if let snapshot = volume.snapshot { try await expire(.snapshot(snapshot), result: &result) }
            }
            try await expire(.backup(backup.name), result: &result)
        }
        // Standalone snapshots (`store backup-dir`) have no TTL; they go when asked.
        for name in forgetSnapshots {
            guard try await repository.record(Snapshot.self, key: Snapshot.key(name)) != nil else {
                throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
            }
            try await expire(.snapshot(name), result: &result)
        }
        try await repository.store.sync()
        return result
    }

    /// Forgets the counts and lists (not the journals of unfinished expiries), so the adoption pass rebuilds them
    /// from the manifests: the reference state is derived data and can always be rebuilt.
    private func dropReferenceState() async throws {
        for prefix in ["refs/counts/", "refs/lists/", "refs/pending/"] {
            for object in try await repository.store.listAll(prefix: prefix) {
                try await repository.store.delete(object.key)
            }
        }
        try await repository.store.delete(Self.adoptedKey)
    }

    /// Written once every owner has a list; from then on every new owner writes its own, so the pass is skipped.
    static let adoptedKey = "refs/adopted"

    private func adoptUnlisted(result: inout Result) async throws {
        if try await repository.store.size(of: Self.adoptedKey) != nil { return }
        var owners: [ReferenceOwner] = []
        for object in try await repository.store.listAll(prefix: "snapshots/") where object.key.hasSuffix(".json") {
            owners.append(.snapshot(String(object.key.dropFirst("snapshots/".count).dropLast(".json".count))))
        }
        for backup in try await BackupPipeline.list(repository) where backup.phase.isRestorable {
            owners.append(.backup(backup.name))
        }
        for owner in owners where try await repository.store.size(of: owner.listKey) == nil {
            let ids = try await referencedChunks(owner)
            try await ReferenceList.write(ids, owner: owner, repository: repository)
            _ = try await ReferenceCounts(repository: repository).apply("+\(owner)", ids: ids, delta: 1)
            try await repository.store.delete(owner.pendingKey)
            result.counted.append(owner.description)
        }
        try await repository.store.put(Self.adoptedKey, [])
    }

    /// The chunks an owner's manifests reference (the source the lists can always be rebuilt from).
    func referencedChunks(_ owner: ReferenceOwner) async throws -> [ChunkID] {
        var ids = Set<ChunkID>()
        switch owner {
        case .snapshot(let name):
            guard let snapshot = try await repository.record(Snapshot.self, key: Snapshot.key(name)) else { return [] }
            ids.formUnion(snapshot.manifest.map(\.id))
            let entries = try TreeManifest.decode(
                try await repository.readBlob(snapshot.manifest), key: Snapshot.key(name))
            for entry in entries { ids.formUnion((entry.chunks ?? []).map(\.id)) }
        case .backup(let name):
            guard
                let record = try await repository.record(
                    ResourceManifestRecord.self, key: ResourceManifestRecord.key(name))
            else { return [] }
            ids.formUnion(record.manifest.map(\.id))
            let manifest = try StoreJSON.decode(
                ResourceManifest.self, from: try await repository.readBlob(record.manifest),
                key: ResourceManifestRecord.key(name))
            for stream in manifest.streams { ids.formUnion(stream.chunks.map(\.id)) }
        }
        return Array(ids)
    }

    private func sweepOrphans(result: inout Result) async throws {
        let counted = try await ReferenceCounts(repository: repository).all()
        var orphans: [ObjectInfo] = []
        try await repository.store.list(prefix: "chunks/") { page in
            orphans += page.filter { counted[String($0.key.split(separator: "/").last ?? "")] == nil }
        }
        await repository.forgetChunks(orphans.compactMap { ChunkID(hex: $0.key.split(separator: "/").last ?? "") })
        for orphan in orphans {
            try await repository.store.delete(orphan.key)
            result.deletedChunks += 1
            result.deletedBytes += Int64(orphan.size)
            result.orphans += 1
        }
    }

    /// Chunks whose stored count differs from a recount of the counted lists (those without a pending marker); the
    /// counts can always be rebuilt from those lists, and the lists from the manifests.
    public func countMismatches() async throws -> [String] {
        var pending = Set<String>()
        for object in try await repository.store.listAll(prefix: "refs/pending/") {
            pending.insert(String(object.key.dropFirst("refs/pending/".count)))
        }
        var expected: [String: Int] = [:]
        for object in try await repository.store.listAll(prefix: "refs/lists/") {
            let path = object.key.dropFirst("refs/lists/".count)
            let parts = path.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let owner: ReferenceOwner =
                parts[0] == "snapshots" ? .snapshot(String(parts[1])) : .backup(String(parts[1]))
            if pending.contains(String(owner.pendingKey.dropFirst("refs/pending/".count))) { continue }
            for id in try await ReferenceList.read(owner, repository: repository) ?? [] {
                expected[id.hex, default: 0] += 1
            }
        }
        let actual = try await ReferenceCounts(repository: repository).all()
        return Set(expected.keys).union(actual.keys).filter { expected[$0] != actual[$0] }.sorted()
    }

    private func isCommitted(_ owner: ReferenceOwner) async throws -> Bool {
        switch owner {
        case .snapshot(let name): return try await repository.record(Snapshot.self, key: Snapshot.key(name)) != nil
        case .backup(let name):
            return try await repository.record(BackupRecord.self, key: BackupRecord.key(name))?.phase.isRestorable
                == true
        }
    }

    /// Decrements the owner's chunks, deletes those at zero, then its list, records and journal.
    private func expire(_ owner: ReferenceOwner, result: inout Result) async throws {
        try await repository.store.put(owner.journalKey, [])
        if let ids = try await ReferenceList.read(owner, repository: repository) {
            let zero = try await ReferenceCounts(repository: repository).apply("-\(owner)", ids: ids, delta: -1)
            await repository.forgetChunks(zero)
            for id in zero {
                let key = Repository.chunkKey(id)
                if let size = try await repository.store.size(of: key) {
                    try await repository.store.delete(key)
                    result.deletedChunks += 1
                    result.deletedBytes += Int64(size)
                }
            }
            try await repository.store.delete(owner.listKey)
        }
        try await repository.store.delete(owner.pendingKey)
        switch owner {
        case .snapshot(let name):
            try await repository.store.delete(Snapshot.key(name))
        case .backup(let name):
            for restore in try await repository.store.listAll(prefix: "restores/") where restore.key.hasSuffix(".json")
            {
                struct Made: Decodable { var backup: String }
                if (try? await repository.record(Made.self, key: restore.key))?.backup == name {
                    try await repository.store.delete(restore.key)
                    try await repository.store.delete(String(restore.key.dropLast(5)) + ".log")
                }
            }
            try await repository.store.delete(ResourceManifestRecord.key(name))
            try await repository.store.delete(BackupRecord.logKey(name))
            try await repository.store.delete(BackupRecord.key(name))
        }
        try await repository.store.delete(owner.journalKey)
        result.expired.append(owner.description)
        logger.info("expired \(owner)")
    }
}
