import Foundation
import SystemIO

/// The secrets of an encrypted store: the key that encrypts every object and the key that names chunks
/// (HMAC-SHA-256 of their content, so a chunk's id says nothing about its content). Made at random once, when the
/// store is created; stored only inside key objects, wrapped by passwords.
public struct MasterKey: Codable, Sendable, Equatable {
    public var encryption: [UInt8]
    public var chunkIDs: [UInt8]

    public static func generate() -> MasterKey {
        MasterKey(
            encryption: StoreCrypto.random(StoreCrypto.keyLength), chunkIDs: StoreCrypto.random(StoreCrypto.keyLength))
    }

    public init(encryption: [UInt8], chunkIDs: [UInt8]) {
        self.encryption = encryption
        self.chunkIDs = chunkIDs
    }
}

/// One password's way into an encrypted store (`keys/<id>.json`, restic's model): scrypt parameters and salt, and
/// the master key sealed with the key they derive from the password. Several passwords open one store; adding or
/// removing one re-encrypts nothing.
public struct StoreKey: Codable, Sendable, Equatable {
    public static let prefix = "keys/"
    public static func key(_ id: String) -> String { "\(prefix)\(id).json" }

    public var id: String
    /// The id of the store (`config.id`) this key belongs to; authenticated with the master key, so a key left by
    /// an attempt to create the store that crashed before its config was written never opens the store.
    public var store: String
    public var created: Date
    public var host: String
    public var username: String
    public var kdf: String
    public var scrypt: StoreCrypto.ScryptParameters
    public var salt: [UInt8]
    /// The master key as JSON, sealed (AES-256-GCM) with the derived key; the associated data is this object's key.
    public var sealedMasterKey: [UInt8]

    /// What the sealed master key's tag authenticates besides the key itself.
    static func associated(id: String, store: String) -> [UInt8] { Array("\(key(id))\n\(store)".utf8) }

    /// Wraps `master` with `password`, for the store whose config id is `store`; `host` is recorded for `store key
    /// list` (`HostName.current()`: the lookup may block, so callers make it on the blocking pool).
    public static func make(
        master: MasterKey, password: [UInt8], store: String, parameters: StoreCrypto.ScryptParameters = .standard,
        host: String, username: String = NSUserName()
    ) throws -> StoreKey {
        let id = Digest.hex(StoreCrypto.random(8))
        let salt = StoreCrypto.random(32)
        guard let derived = StoreCrypto.scrypt(password: password, salt: salt, parameters: parameters) else {
            throw ChunkStoreError.keyUnusable(key: key(id), reason: "scrypt failed")
        }
        let sealed = StoreCrypto.seal(
            try StoreJSON.encode(master, pretty: false), key: derived, associated: associated(id: id, store: store))
        return StoreKey(
            id: id, store: store, created: Date(), host: host, username: username, kdf: "scrypt", scrypt: parameters,
            salt: salt,
            sealedMasterKey: sealed)
    }

    /// The master key, or nil when `password` is not this key's.
    public func open(password: [UInt8]) throws -> MasterKey? {
        guard kdf == "scrypt" else {
            throw ChunkStoreError.keyUnusable(key: Self.key(id), reason: "unknown key derivation '\(kdf)'")
        }
        if let problem = scrypt.problem { throw ChunkStoreError.keyUnusable(key: Self.key(id), reason: problem) }
        guard let derived = StoreCrypto.scrypt(password: password, salt: salt, parameters: scrypt),
            let plain = StoreCrypto.open(
                sealedMasterKey, key: derived, associated: Self.associated(id: id, store: store))
        else { return nil }
        let master = try StoreJSON.decode(MasterKey.self, from: plain, key: Self.key(id))
        guard master.encryption.count == StoreCrypto.keyLength, master.chunkIDs.count == StoreCrypto.keyLength else {
            throw ChunkStoreError.keyUnusable(key: Self.key(id), reason: "the master key has the wrong length")
        }
        return master
    }

    /// Every key object of a store (of any store id; callers keep those of the config's).
    public static func all(in store: any ObjectStore) async throws -> [StoreKey] {
        // Read at once: each is a round trip on an object store, and every open of an encrypted store reads them.
        let names = try await store.listAll(prefix: prefix).map(\.key).filter { $0.hasSuffix(".json") }
        let read = await names.concurrentMap(width: 8) { name -> Result<StoreKey, any Error> in
            do {
                return .success(try StoreJSON.decode(StoreKey.self, from: try await store.get(name), key: name))
            } catch {
                return .failure(error)
            }
        }
        return try read.map { try $0.get() }.sorted { $0.created < $1.created }
    }
}

/// Where a command finds the password of an encrypted store.
public protocol PasswordSource: Sendable {
    /// The password for the store with `config`, or nil when none is known. `creating` is true while the store is
    /// being created, when a source may make one up (and keep it).
    func password(for config: RepositoryConfig, location: String, creating: Bool) throws -> [UInt8]?
    /// Where the password came from, for messages ("VELERO_CAS_PASSWORD", a file path).
    func describe(for config: RepositoryConfig) -> String
}

/// A fixed password, for tests and embedders.
public struct FixedPassword: PasswordSource {
    public let bytes: [UInt8]
    public init(_ text: String) { bytes = Array(text.utf8) }
    public func password(for config: RepositoryConfig, location: String, creating: Bool) -> [UInt8]? { bytes }
    public func describe(for config: RepositoryConfig) -> String { "the given password" }
}
