import BackupModel
import ChunkStore
import Foundation
import SystemIO

/// Checks a store without changing it: every chunk that a committed snapshot or backup references exists (and,
/// reading the data, decodes and hashes to its id), and which chunks nothing references (orphans). "Committed" is
/// `CommittedOwners`' definition, the one garbage collection uses.
public struct StoreVerifier: Sendable {
    public let repository: Repository

    public init(repository: Repository) { self.repository = repository }

    public struct Damage: Codable, Sendable, Equatable {
        public var chunk: String
        public var problem: String
        /// The records that reference the chunk: "snapshot NAME" or "backup NAME".
        public var affected: [String]

        public init(chunk: String, problem: String, affected: [String]) {
            self.chunk = chunk
            self.problem = problem
            self.affected = affected
        }
    }

    public struct Report: Codable, Sendable {
        public var snapshots: Int
        public var resourceManifests: Int
        public var referencedChunks: Int
        public var storedChunks: Int
        public var storedBytes: Int64
        public var checkedData: Bool
        public var damage: [Damage]
        public var orphanedChunks: Int
        public var orphanedBytes: Int64
        /// Plain bytes the snapshots and backups hold, duplicates included.
        public var logicalBytes: Int64
        /// Plain bytes of the distinct chunks they reference.
        public var uniqueBytes: Int64
        /// Stored (compressed) bytes of those chunks.
        public var referencedStoredBytes: Int64

        /// Logical bytes per unique byte: what deduplication saves.
        public var dedupRatio: Double { uniqueBytes == 0 ? 0 : Double(logicalBytes) / Double(uniqueBytes) }
        /// Unique plain bytes per stored byte: what lz4 saves.
        public var compressionRatio: Double {
            referencedStoredBytes == 0 ? 0 : Double(uniqueBytes) / Double(referencedStoredBytes)
        }

        public var isClean: Bool { damage.isEmpty }
    }

    public func verify(readData: Bool) async throws -> Report {
        // What the index says now: this repository may have been opened before another process changed the store.
        try await repository.refreshIndex()
        var owners: [ChunkID: [String]] = [:]
        var lengths: [ChunkID: Int] = [:]
        var logical: Int64 = 0
        func reference(_ refs: [ChunkRef], by owner: String) {
            for ref in refs {
                owners[ref.id, default: []].append(owner)
                lengths[ref.id] = ref.length
                logical += Int64(ref.length)
            }
        }
        var damage: [Damage] = []
        // The same notion of "committed" as garbage collection's, so an orphan sweep never creates "damage".
        let committed = try await CommittedOwners.all(repository)
        for entry in committed {
            let owner = entry.owner.description
            do {
                reference(try await CommittedOwners.referencedChunks(entry, repository: repository), by: owner)
            } catch {
                reference(entry.manifest, by: owner)
                damage.append(Damage(chunk: "-", problem: "its manifest cannot be read: \(error)", affected: [owner]))
            }
        }
        // A committed backup's volume data lives in its snapshots: each must be committed, and be the one it made.
        var snapshots: [String: CommittedOwners.Entry] = [:]
        for entry in committed where entry.owner.kind == .snapshot { snapshots[entry.owner.name] = entry }
        for entry in committed where entry.owner.kind == .backup {
            for name in entry.volumeSnapshots {
                let snapshot = snapshots[name]
                if snapshot == nil || (snapshot?.backupCommit.map { $0 != entry.owner.commit } ?? false) {
                    damage.append(
                        Damage(
                            chunk: "-", problem: "its volume snapshot \(name) is missing",
                            affected: [entry.owner.description]))
                }
            }
        }
        let snapshotCount = committed.count { $0.owner.kind == .snapshot }
        let manifestCount = committed.count { $0.owner.kind == .backup }

        let stored = await repository.indexedChunks()
        let locations = await repository.indexedLocations()
        var present = Set<PackID>()
        try await repository.store.list(prefix: PackLayout.prefix) { page in
            for object in page { if let pack = PackLayout.pack(fromKey: object.key) { present.insert(pack) } }
        }
        for (id, owner) in owners where stored[id] == nil {
            damage.append(Damage(chunk: id.hex, problem: "missing", affected: Array(Set(owner)).sorted()))
        }
        for (pack, chunks) in locations where !present.contains(pack) {
            for chunk in chunks {
                guard let owner = owners[chunk.id] else { continue }
                damage.append(
                    Damage(
                        chunk: chunk.id.hex, problem: "missing: its pack \(pack) is gone",
                        affected: Array(Set(owner)).sorted()))
            }
        }
        if readData {
            // Each pack is read once: its bytes must hash to its name, and each chunk in it must open and decode.
            let slots = AsyncSemaphore(permits: 4)
            let checks = try await withThrowingTaskGroup(
                of: (PackID, [(id: ChunkID, range: Range<Int>)], Repository.PackCheck?, String?).self
            ) { group in
                for (pack, chunks) in locations where present.contains(pack) {
                    try await slots.acquire()
                    group.addTask { [repository] in
                        defer { slots.release() }
                        do {
                            return (pack, chunks, try await repository.checkPack(pack, chunks: chunks), nil)
                        } catch let error as ChunkStoreError {
                            return (pack, chunks, nil, error.description)
                        }
                    }
                }
                var all: [(PackID, [(id: ChunkID, range: Range<Int>)], Repository.PackCheck?, String?)] = []
                for try await result in group { all.append(result) }
                return all
            }
            for (pack, chunks, check, failure) in checks {
                let holders = Array(Set(chunks.flatMap { owners[$0.id] ?? [] })).sorted()
                guard let check else {
                    damage.append(
                        Damage(chunk: "-", problem: "pack \(pack) cannot be read: \(failure ?? "")", affected: holders))
                    continue
                }
                for (id, problem) in check.corrupt {
                    damage.append(
                        Damage(chunk: id.hex, problem: problem, affected: Array(Set(owners[id] ?? [])).sorted()))
                }
                if !check.matchesName && check.corrupt.isEmpty {
                    damage.append(
                        Damage(
                            chunk: "-",
                            problem: "pack \(pack) does not hash to its name (its header changed)",
                            affected: holders))
                }
            }
        }
        let orphans = stored.filter { owners[$0.key] == nil }
        let referencedStored = owners.keys.reduce(Int64(0)) { $0 + Int64(stored[$1] ?? 0) }
        let unique = lengths.values.reduce(Int64(0)) { $0 + Int64($1) }
        return Report(
            snapshots: snapshotCount, resourceManifests: manifestCount, referencedChunks: owners.count,
            storedChunks: stored.count, storedBytes: stored.values.reduce(Int64(0)) { $0 + Int64($1) },
            checkedData: readData,
            damage: damage.sorted { ($0.chunk, $0.problem) < ($1.chunk, $1.problem) }, orphanedChunks: orphans.count,
            orphanedBytes: orphans.values.reduce(Int64(0)) { $0 + Int64($1) }, logicalBytes: logical,
            uniqueBytes: unique,
            referencedStoredBytes: referencedStored)
    }
}
