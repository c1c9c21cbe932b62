/// An object store whose objects are encrypted at rest with AES-256-GCM under the store's master key.
///
/// Every object is sealed on its own with a random nonce, and its key is authenticated with it, so an object copied
/// or moved to another key does not open. Three kinds stay readable without the key, as they must: `config` (how to
/// open the store), `keys/` (the wrapped master keys) and `locks/` (so a process can judge another's lock before it
/// has opened anything), and `packs/`, whose chunks and directory the repository seals one by one (so one chunk can be
/// read with one ranged read). Object keys themselves (backup and snapshot names, chunk ids keyed by HMAC) are not secret.
public struct EncryptedObjectStore: ObjectStore {
    public let base: any ObjectStore
    private let key: [UInt8]

    public init(base: any ObjectStore, master: MasterKey) {
        self.base = base
        key = master.encryption
    }

    /// Objects kept in plain text.
    public static func isPlain(_ objectKey: String) -> Bool {
        objectKey == RepositoryConfig.key || objectKey.hasPrefix(StoreKey.prefix) || objectKey.hasPrefix("locks/")
            || objectKey.hasPrefix(PackLayout.prefix)
    }

    public var location: String { base.location }

    public func checkAccess() async throws { try await base.checkAccess() }

    public func put(_ objectKey: String, _ bytes: [UInt8]) async throws {
        try await base.put(objectKey, stored(bytes, at: objectKey))
    }

    public func putVolatile(_ objectKey: String, _ bytes: [UInt8], tornAfterPowerCut: Bool) async throws {
        try await base.putVolatile(objectKey, stored(bytes, at: objectKey), tornAfterPowerCut: tornAfterPowerCut)
    }

    public func makeDirectories(_ keyPrefixes: [String]) async throws { try await base.makeDirectories(keyPrefixes) }

    /// What is stored for `bytes` at `objectKey`: the bytes themselves for plain kinds, else sealed.
    private func stored(_ bytes: [UInt8], at objectKey: String) -> [UInt8] {
        if Self.isPlain(objectKey) { return bytes }
        return StoreCrypto.seal(bytes, key: key, associated: Array(objectKey.utf8))
    }

    public func put(_ objectKey: String, parts: [[UInt8]]) async throws {
        if Self.isPlain(objectKey) { return try await base.put(objectKey, parts: parts) }
        try await put(objectKey, parts.flatMap { $0 })
    }

    public func get(_ objectKey: String) async throws -> [UInt8] {
        let stored = try await base.get(objectKey)
        if Self.isPlain(objectKey) { return stored }
        guard let plain = StoreCrypto.open(stored, key: key, associated: Array(objectKey.utf8)) else {
            throw ChunkStoreError.tampered(key: objectKey, store: base.location)
        }
        return plain
    }

    /// Ranged reads are for objects stored as they are (packs); a sealed object opens only whole.
    public func get(_ objectKey: String, range: Range<Int>) async throws -> [UInt8] {
        if Self.isPlain(objectKey) { return try await base.get(objectKey, range: range) }
        let whole = try await get(objectKey)
        guard range.upperBound <= whole.count else {
            throw ChunkStoreError.shortRead(key: objectKey, store: base.location, wanted: range, size: whole.count)
        }
        return Array(whole[range])
    }

    public func size(of objectKey: String) async throws -> Int? { try await base.size(of: objectKey) }
    public func delete(_ objectKey: String) async throws { try await base.delete(objectKey) }
    public func deleteVolatile(_ objectKey: String) async throws { try await base.deleteVolatile(objectKey) }

    public func makeDurableAtNextSync(_ objectKey: String) async throws {
        try await base.makeDurableAtNextSync(objectKey)
    }

    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }

    public func sync() async throws { try await base.sync() }

    public func removeInterruptedWrites(olderThan age: Duration) async throws -> Int {
        try await base.removeInterruptedWrites(olderThan: age)
    }
}
