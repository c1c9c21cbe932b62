import ChunkStore
import Collectors

/// A run's log in the store: gzip-compressed (Velero keeps `<backup>-logs.gz` in its location), under the
/// record's log key (`BackupRecord.logKey`, `RestoreRecord.logKey`), through the store's encryption like the
/// record, and written in one atomic put: a reader sees the previous log or the new one whole.
public enum RunLogStore {
    /// Stores `log`'s text at `key`, replacing what is there, and makes it durable (a run that ends without a
    /// record: no commit follows to do it).
    public static func write(_ log: RunLog, key: String, repository: Repository) async throws {
        try await repository.store.put(key, try compress(Array(log.text.utf8)))
        try await repository.store.sync()
    }

    /// Stores `log`'s text at `key` just before the run's record is committed beside it: volatile, so the record's
    /// commit makes it durable too, without a barrier of its own (`Repository.writeVolatile`).
    public static func writeBeforeRecord(_ log: RunLog, key: String, repository: Repository) async throws {
        try await repository.writeVolatile(try compress(Array(log.text.utf8)), key: key)
    }

    /// The stored log's text, or nil when there is none. Logs stored before they were compressed are plain text
    /// and come back as they are.
    public static func read(key: String, repository: Repository) async throws -> [UInt8]? {
        let bytes: [UInt8]
        do {
            bytes = try await repository.store.get(key)
        } catch ChunkStoreError.objectNotFound {
            return nil
        }
        guard bytes.starts(with: [0x1f, 0x8b]) else { return bytes }
        return try Gunzip.decompress(bytes)
    }

    /// `bytes` in the gzip format.
    public static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        let encoder = try GzipEncoder()
        return try encoder.compress(bytes) + encoder.finish()
    }
}
