import Foundation

/// The store's `config` object: format version and the chunker profiles every writer must use, so that the same
/// content always cuts into the same chunks whoever writes it.
public struct RepositoryConfig: Codable, Sendable, Equatable {
    public static let key = "config"
    /// Version 1: one plain object per chunk. Version 2: the same, encrypted. Version 3: chunks in packs described by
    /// index objects, encrypted or plain (older readers refuse it instead of misreading it).
    public static let currentVersion = 3
    public static let readableVersions = 1...3
    /// The first version that keeps chunks in packs.
    public static let packsVersion = 3

    /// How objects are kept at rest.
    public enum Encryption: String, Codable, Sendable, CaseIterable {
        /// AES-256-GCM per object, chunk ids keyed with HMAC-SHA-256, master key wrapped by scrypt-derived keys.
        case aes256gcm = "aes-256-gcm"
        /// Plain objects (an explicit choice at creation).
        case none
    }

    public var version: Int
    public var id: String
    public var createdAt: Date
    public var volumeChunker: ChunkerProfile
    public var resourceChunker: ChunkerProfile
    /// How long a lock may go unrefreshed (by the store's clock) before it counts as a crashed process's. A property
    /// of the store, so every process that shares it judges locks alike. Absent in older configs: 30 minutes.
    public var lockStaleSeconds: Int?
    /// Absent in stores made before encryption existed: plain.
    public var encryption: Encryption?

    public static let defaultLockStaleSeconds = 1800

    /// Whether chunks are kept in packs (format 3); older stores need `store migrate`.
    public var hasPacks: Bool { version >= Self.packsVersion }

    /// Whether objects are encrypted.
    public var isEncrypted: Bool { (encryption ?? .none) != .none }

    public init(
        id: String = UUID().uuidString.lowercased(), createdAt: Date = Date(),
        lockStaleSeconds: Int = RepositoryConfig.defaultLockStaleSeconds, encryption: Encryption = .none
    ) {
        version = Self.currentVersion
        self.encryption = encryption
        self.id = id
        self.createdAt = createdAt
        volumeChunker = .volume
        resourceChunker = .resources
        self.lockStaleSeconds = lockStaleSeconds
    }

    /// The stale threshold in force for this store.
    public var lockStaleAfter: Duration { .seconds(lockStaleSeconds ?? Self.defaultLockStaleSeconds) }
}

/// JSON as the store writes it: sorted keys, ISO 8601 dates.
public enum StoreJSON {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], key: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw ChunkStoreError.corruptRecord(key: key, reason: "\(error)")
        }
    }
}
