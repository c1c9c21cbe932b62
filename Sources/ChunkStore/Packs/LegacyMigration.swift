/// `store migrate`: turns a store of format 1 or 2 (one object per chunk under `chunks/`) into format 3 (packs).
///
/// Under the exclusive lock. Loose chunk objects are read (and checked: a damaged one is reported and left where it
/// is), added to packs, and in batches: packs and index object durable → the batch's loose objects deleted → durable.
/// The config says format 3 only at the end. A crash leaves chunks both packed and loose; running again packs only
/// those no index object names and deletes the rest, so the index wins and nothing is packed twice.
public enum LegacyMigration {
    public struct Result: Sendable, Equatable, Codable {
        public var chunks = 0
        public var bytes: Int64 = 0
        /// Loose chunks that were already packed by an interrupted run.
        public var alreadyPacked = 0
        /// Chunks that did not decode or hash to their id, left in place.
        public var damaged: [String] = []
        public var packs = 0

        public init() {}
    }

    /// Loose chunks per batch: what a crash can leave both packed and loose.
    static let batch = 4096

    /// Migrates the store `repository` was opened on (with `legacyLayout: true`); a store already in format 3 is
    /// left as it is.
    public static func migrate(
        _ repository: Repository, progress: (@Sendable (Result) -> Void)? = nil
    ) async throws -> Result {
        guard !repository.config.hasPacks else { return Result() }
        return try await StoreLock.withLock(.exclusive, repository: repository, operation: "store migrate") {
            var result = Result()
            try await repository.refreshIndex()
            let before = await repository.indexedPacks().count
            var keys: [String] = []
            try await repository.store.list(prefix: "chunks/") { page in keys += page.map(\.key) }
            var start = 0
            while start < keys.count {
                let batch = Array(keys[start..<min(start + batch, keys.count)])
                start += batch.count
                var packed: [String] = []
                for key in batch {
                    guard let id = ChunkID(hex: key.split(separator: "/").last ?? ""),
                        key == Repository.legacyChunkKey(id)
                    else { continue }
                    if await repository.hasChunk(id) {
                        result.alreadyPacked += 1
                        packed.append(key)
                        continue
                    }
                    let encoded = try await repository.store.get(key)
                    do {
                        _ = try ChunkCodec.decode(encoded, id: id, key: key, idKey: repository.chunkIDKey)
                    } catch {
                        result.damaged.append("\(key): \(error)")
                        continue
                    }
                    let blob = PackLayout.sealBlob(encoded, id: id, key: repository.blobKey)
                    _ = try await repository.addToPackAndUpload(id, blob: blob, kind: .data)
                    result.chunks += 1
                    result.bytes += Int64(encoded.count)
                    packed.append(key)
                }
                // Packed, indexed and durable before any loose copy goes.
                try await repository.flushPacks()
                try await repository.store.sync()
                try await StoreLock.ensureHeld()
                for key in packed { try await repository.store.delete(key) }
                try await repository.store.sync()
                progress?(result)
            }
            result.packs = await repository.indexedPacks().count - before
            guard result.damaged.isEmpty else { return result }
            var config = repository.config
            config.version = RepositoryConfig.currentVersion
            try await repository.store.put(RepositoryConfig.key, try StoreJSON.encode(config))
            try await repository.store.sync()
            return result
        }
    }
}
