import Foundation

/// What removing chunks from the packs did.
public struct PackRemoval: Sendable, Equatable {
    /// Index entries dropped (chunks no longer stored).
    public var removedEntries = 0
    /// Packs deleted: empty ones, and those whose live chunks were copied into new packs.
    public var deletedPacks = 0
    /// Of those, packs whose live chunks were copied first.
    public var repackedPacks = 0
    /// Bytes of the packs deleted, less the bytes of the packs written for their live chunks.
    public var freedBytes: Int64 = 0

    public init() {}

    public static func += (a: inout PackRemoval, b: PackRemoval) {
        a.removedEntries += b.removedEntries
        a.deletedPacks += b.deletedPacks
        a.repackedPacks += b.repackedPacks
        a.freedBytes += b.freedBytes
    }
}

/// Garbage collection at pack granularity, under the exclusive lock (no writer runs meanwhile).
///
/// Chunks whose count reached zero are dropped from the index objects that name their packs; a pack left with no
/// live chunk is deleted, and a pack whose live share fell below the threshold is repacked (its live blobs copied,
/// still sealed, into new packs) and deleted. Only packs that held removed chunks, and only the index objects that
/// name them, are read or written: the cost follows the expired data, not the store.
///
/// Order, each step durable before the next: a journal `refs/repacking/<pack>` for every pack to retire → new packs
/// and their index object → the affected index objects rewritten (new objects first, then the old ones deleted) →
/// the retired packs deleted → the journals deleted. A crash leaves either both copies indexed or only the new one,
/// never an index entry naming a deleted pack; the next collection finishes what a journal names.
extension Repository {
    public static let repackingPrefix = "refs/repacking/"

    /// Removes `ids` from the index and retires the packs that leaves empty or below `repackBelow` live share
    /// (by bytes); `retiring` packs are retired whatever their share (an interrupted retirement).
    public func removeChunks(
        _ ids: Set<ChunkID>, repackBelow: Double = 0.5, retiring forced: Set<PackID> = []
    ) async throws -> PackRemoval {
        try await loadIndex()
        var removal = PackRemoval()
        let table = await packs.table
        var affected = Set<UInt32>()
        for id in ids { for location in table.locations(id) { affected.insert(location.pack) } }
        for pack in forced {
            if let ordinal = table.ordinal(of: pack), table.pack(ordinal).present { affected.insert(ordinal) }
        }
        guard !affected.isEmpty else { return removal }

        // What the index objects naming the affected packs say (the packs' full directories).
        let objectNames = Set(affected.flatMap { table.pack($0).indexObjects })
        var objects: [String: [IndexFile.Pack]] = [:]
        for name in objectNames {
            do {
                objects[name] = try IndexFile.decode(try await store.get(name), key: name)
            } catch ChunkStoreError.objectNotFound {
                objects[name] = []
            }
        }
        var directories: [PackID: IndexFile.Pack] = [:]
        for pack in IndexFile.merged(Array(objects.values.joined()))
        where affected.contains(table.ordinal(of: pack.id) ?? .max) {
            directories[pack.id] = pack
        }
        var retiring: [IndexFile.Pack] = []
        for pack in directories.values {
            let liveBytes = pack.entries.filter { !ids.contains($0.id) }.reduce(0) { $0 + Int($1.length) }
            if forced.contains(pack.id) || liveBytes == 0 || Double(liveBytes) < repackBelow * Double(pack.size) {
                retiring.append(pack)
            }
        }
        let retiringIDs = Set(retiring.map(\.id))

        // 1. Journals, so an interrupted retirement is finished by the next collection.
        if !retiring.isEmpty {
            for pack in retiring { try await store.put(Self.repackingPrefix + pack.id.hex, []) }
            try await store.sync()
        }
        // 2. Live blobs of retiring packs that no other pack holds go into new packs, indexed and durable.
        var written = 0
        for pack in retiring {
            let live = pack.entries.filter { entry in
                !ids.contains(entry.id)
                    && !table.locations(entry.id).contains { !retiringIDs.contains(table.pack($0.pack).id) }
            }
            guard !live.isEmpty else { continue }
            let bytes: [UInt8]
            do {
                bytes = try await store.get(pack.id.key)
            } catch ChunkStoreError.objectNotFound {
                throw ChunkStoreError.missingChunk(id: live[0].id, key: pack.id.key)
            }
            for entry in live {
                let start = Int(entry.offset)
                let end = start + Int(entry.length)
                // A pack shorter than its index says (truncated or replaced in the store) is damage to report, not
                // a range to trap on: the collection stops before anything is deleted, and `verify` names the rest.
                guard end <= bytes.count else {
                    throw ChunkStoreError.corruptChunk(
                        id: entry.id, key: pack.id.key,
                        reason: "the pack is \(bytes.count) bytes, shorter than its index says (\(end))")
                }
                let blob = Array(bytes[start..<end])
                written += blob.count
                _ = try await addToPackAndUpload(entry.id, blob: blob, kind: pack.kind, force: true)
            }
            removal.repackedPacks += 1
        }
        if written > 0 {
            try await flushPacks()
            try await store.sync()
        }
        // 3. The affected index objects, without the removed entries and the retiring packs.
        var replaced: [(old: String, new: String?, packs: [IndexFile.Pack])] = []
        for (name, described) in objects {
            var kept: [IndexFile.Pack] = []
            for var pack in described where !retiringIDs.contains(pack.id) {
                let before = pack.entries.count
                pack.entries.removeAll { ids.contains($0.id) }
                removal.removedEntries += before - pack.entries.count
                kept.append(pack)
            }
            let newName = kept.isEmpty ? nil : IndexFile.newKey()
            if let newName { try await store.put(newName, IndexFile.encode(kept)) }
            replaced.append((name, newName, kept))
        }
        try await store.sync()
        for object in replaced { try await store.delete(object.old) }
        try await store.sync()
        await packs.update { table in
            for pack in directories.values {
                guard let ordinal = table.ordinal(of: pack.id) else { continue }
                for entry in pack.entries where retiringIDs.contains(pack.id) || ids.contains(entry.id) {
                    table.remove(entry.id, inPack: ordinal)
                }
            }
            for object in replaced {
                table.forget(indexObject: object.old)
                if let new = object.new { table.add(indexObject: new, packs: object.packs) }
            }
            for pack in retiring { if let ordinal = table.ordinal(of: pack.id) { table.dropPack(ordinal) } }
        }
        // 4. The retired packs, then their journals.
        for pack in retiring {
            try await store.delete(pack.id.key)
            removal.deletedPacks += 1
            removal.freedBytes += Int64(pack.size)
        }
        removal.freedBytes -= Int64(written)
        if !retiring.isEmpty {
            try await store.sync()
            for pack in retiring { try await store.delete(Self.repackingPrefix + pack.id.hex) }
            try await store.sync()
        }
        return removal
    }

    /// Merges the small index objects into few large ones once there are more than `threshold` of them: every commit
    /// writes one, and a store read at every open must not grow into thousands of them. New objects are durable
    /// before the old ones go, so a crash leaves both (the same entries twice), never neither. Returns how many were
    /// merged.
    public func consolidateIndex(threshold: Int = 64, smallerThan bytes: Int = 400_000) async throws -> Int {
        let small = try await store.listAll(prefix: IndexFile.prefix).filter {
            IndexFile.isIndexKey($0.key) && $0.size < bytes
        }
        guard small.count > threshold else { return 0 }
        var described: [IndexFile.Pack] = []
        for object in small {
            do {
                described += try IndexFile.decode(try await store.get(object.key), key: object.key)
            } catch ChunkStoreError.objectNotFound {}
        }
        var written: [(key: String, packs: [IndexFile.Pack])] = []
        for group in PackStore.groups(IndexFile.merged(described)) {
            let key = IndexFile.newKey()
            try await store.put(key, IndexFile.encode(group))
            written.append((key, group))
        }
        try await store.sync()
        try await StoreLock.ensureHeld()
        for object in small { try await store.delete(object.key) }
        try await store.sync()
        await packs.update { table in
            for object in small { table.forget(indexObject: object.key) }
            for object in written { table.add(indexObject: object.key, packs: object.packs) }
        }
        return small.count
    }

    /// Finishes retirements a crash interrupted (`refs/repacking/` journals).
    public func finishInterruptedRepacking() async throws -> PackRemoval {
        try await loadIndex()
        var removal = PackRemoval()
        for object in try await store.listAll(prefix: Self.repackingPrefix) {
            guard let pack = PackID(hex: object.key.dropFirst(Self.repackingPrefix.count)) else { continue }
            let table = await packs.table
            if let ordinal = table.ordinal(of: pack), table.pack(ordinal).present {
                removal += try await removeChunks([], retiring: [pack])
            } else {
                try await store.delete(pack.key)
                try await store.sync()
                try await store.delete(object.key)
            }
        }
        return removal
    }

    /// Every chunk the index names, with its stored length (verification, orphan sweeps).
    public func indexedChunks() async -> [ChunkID: Int] {
        try? await loadIndex()
        let table = await packs.table
        var all: [ChunkID: Int] = [:]
        all.reserveCapacity(table.count)
        table.forEach { id, location in all[id] = Int(location.length) }
        return all
    }

    /// The packs the index names: id, kind and size.
    public func indexedPacks() async -> [(id: PackID, kind: PackKind, size: Int)] {
        try? await loadIndex()
        return await packs.table.presentPacks.map { ($0.id, $0.kind, Int($0.size)) }
    }

    /// The pack that holds a chunk (the first, if several do).
    public func pack(holding id: ChunkID) async -> PackID? {
        try? await loadIndex()
        let table = await packs.table
        return table.locate(id).map { table.pack($0.pack).id }
    }

    /// Deletes pack objects no index object names (a writer died between uploading them and writing their index),
    /// once their store modification time is older than `age`. Returns how many, and their bytes.
    public func removeUnindexedPacks(olderThan age: Duration, now: Date = Date()) async throws -> (Int, Int64) {
        // Every pack the table does not name goes: the table must have been read.
        try await loadIndex()
        let indexed = Set(await packs.table.presentPacks.map(\.id))
        var removed = 0
        var bytes: Int64 = 0
        let limit = Double(age.components.seconds)
        for object in try await store.listAll(prefix: PackLayout.prefix) {
            guard let pack = PackLayout.pack(fromKey: object.key), !indexed.contains(pack) else { continue }
            guard let modified = object.modified, now.timeIntervalSince(modified) > limit else { continue }
            try await store.delete(object.key)
            removed += 1
            bytes += Int64(object.size)
        }
        return (removed, bytes)
    }
}

/// Reading whole packs back (verification).
extension Repository {
    /// What reading one pack whole found.
    public struct PackCheck: Sendable {
        /// Whether the pack's trailer hashes to its name (a changed byte in its directory breaks it; a changed byte in
        /// a blob breaks that chunk's check).
        public var matchesName: Bool
        /// Chunks of the pack (as the index places them) that do not open, decode or hash to their id.
        public var corrupt: [(id: ChunkID, problem: String)]
    }

    /// Every indexed chunk's place, grouped by pack.
    public func indexedLocations() async -> [PackID: [(id: ChunkID, range: Range<Int>)]] {
        try? await loadIndex()
        let table = await packs.table
        var byPack: [PackID: [(id: ChunkID, range: Range<Int>)]] = [:]
        table.forEach { id, location in
            let start = Int(location.offset)
            byPack[table.pack(location.pack).id, default: []].append((id, start..<start + Int(location.length)))
        }
        return byPack
    }

    /// Reads a pack once and checks it and each of `chunks` in it.
    public func checkPack(_ pack: PackID, chunks: [(id: ChunkID, range: Range<Int>)]) async throws -> PackCheck {
        let bytes = try await store.get(pack.key)
        var check = PackCheck(matchesName: PackLayout.nameMatches(pack, bytes: bytes), corrupt: [])
        for chunk in chunks {
            guard chunk.range.upperBound <= bytes.count else {
                check.corrupt.append((chunk.id, "pack \(pack) is shorter than its index says"))
                continue
            }
            guard let encoded = PackLayout.openBlob(Array(bytes[chunk.range]), id: chunk.id, key: blobKey) else {
                check.corrupt.append((chunk.id, "corrupt: it does not authenticate in pack \(pack) (changed bytes)"))
                continue
            }
            do {
                _ = try ChunkCodec.decode(encoded, id: chunk.id, key: pack.key, idKey: chunkIDKey)
            } catch {
                check.corrupt.append((chunk.id, "\(error)"))
            }
        }
        return check
    }
}
