import Foundation

/// One object as a listing returns it.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// When the object was last written, by the store's own clock (S3's LastModified, a file's mtime); nil when the
    /// backend cannot say. Lock staleness is judged on this clock, so no host's clock is trusted alone.
    public var modified: Date?

    public init(key: String, size: Int, modified: Date? = nil) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// A flat key → bytes store: a local directory or an S3 bucket prefix.
///
/// Contract every backend keeps: an object is either absent or whole (`put` is atomic), writing an existing key
/// replaces it whole, deleting a missing key succeeds, and errors say which key and which store.
public protocol ObjectStore: Sendable {
    /// Where the store is, for messages ("/var/backups", "s3://bucket/prefix").
    var location: String { get }

    /// Fails with a clear error when the store cannot be reached or does not exist.
    func checkAccess() async throws

    func put(_ key: String, _ bytes: [UInt8]) async throws
    /// Stores `parts` one after another as one object, as `put` would their concatenation; a backend that can
    /// write them without joining them first (a file) saves a copy of a whole pack.
    func put(_ key: String, parts: [[UInt8]]) async throws
    /// Throws `ChunkStoreError.objectNotFound` when absent.
    func get(_ key: String) async throws -> [UInt8]
    /// Bytes `range` of an object (packs: one chunk out of many). Throws `objectNotFound` when absent and
    /// `ChunkStoreError.shortRead` when the object ends before the range does.
    func get(_ key: String, range: Range<Int>) async throws -> [UInt8]
    /// The object's size, or nil when absent.
    func size(of key: String) async throws -> Int?
    func delete(_ key: String) async throws
    /// Calls `page` with successive batches (of at most 1,000) of the objects under `prefix`; order is unspecified.
    func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws
    /// Makes every completed `put` and `delete` durable (the commit barrier before a record that names them).
    func sync() async throws
    /// `put` of an object that need not outlive a power cut: a lock, or a run's log put just before the record
    /// whose commit flushes its directory. It is as atomic as `put` while the machine runs (never seen torn), but
    /// no `sync()` waits for it, so it adds nothing to the next barrier (on a local store: no directory fsync). A
    /// power cut may take it back; with `tornAfterPowerCut` (for objects whose readers take an unreadable one for
    /// what it may be, as locks do) it may also leave it torn, which saves a local store the file's own fsync.
    func putVolatile(_ key: String, _ bytes: [UInt8], tornAfterPowerCut: Bool) async throws
    /// Makes an object last put volatile (and not torn) durable with the next `sync()`, as a `put` would have been:
    /// a record that only has to survive a power cut once something is committed under it (a backup InProgress).
    func makeDurableAtNextSync(_ key: String) async throws
    /// Makes the directories a store's layout will use, so no later write pays for making one (and flushing its
    /// parent). Stores without directories (S3) do nothing.
    func makeDirectories(_ keyPrefixes: [String]) async throws
    /// `delete` that no `sync()` waits for (a released lock): a power cut may bring the object back.
    func deleteVolatile(_ key: String) async throws
    /// Removes what writers killed mid-write left behind (temporary files), once older than `age`.
    func removeInterruptedWrites(olderThan age: Duration) async throws -> Int
}

extension ObjectStore {
    /// Stores without a barrier of their own (S3: a completed request is durable) write as `put` does.
    public func putVolatile(_ key: String, _ bytes: [UInt8], tornAfterPowerCut: Bool) async throws {
        try await put(key, bytes)
    }
    public func deleteVolatile(_ key: String) async throws { try await delete(key) }
    public func makeDurableAtNextSync(_ key: String) async throws {}
    public func makeDirectories(_ keyPrefixes: [String]) async throws {}
}

extension ObjectStore {
    /// `putVolatile` of an object that is whole whenever it is there, after a power cut too.
    public func putVolatile(_ key: String, _ bytes: [UInt8]) async throws {
        try await putVolatile(key, bytes, tornAfterPowerCut: false)
    }
}

extension ObjectStore {
    /// Stores whose writes are single atomic requests (S3) leave nothing behind.
    public func removeInterruptedWrites(olderThan age: Duration) async throws -> Int { 0 }
}

extension ObjectStore {
    /// Joins the parts and puts the whole (S3 signs and sends one body; test wrappers see one put).
    public func put(_ key: String, parts: [[UInt8]]) async throws {
        var whole: [UInt8] = []
        whole.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { whole += part }
        try await put(key, whole)
    }
}

extension ObjectStore {
    /// A backend without ranged reads reads the whole object (test wrappers).
    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        let whole = try await get(key)
        guard range.upperBound <= whole.count else {
            throw ChunkStoreError.shortRead(key: key, store: location, wanted: range, size: whole.count)
        }
        return Array(whole[range])
    }
}

extension ObjectStore {
    /// All objects under `prefix`.
    public func listAll(prefix: String) async throws -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        try await list(prefix: prefix) { all.append(contentsOf: $0) }
        return all
    }
}

/// Object keys are relative, '/'-separated, of safe characters, and never climb out with "..".
public enum ObjectKey {
    public static func validate(_ key: String) throws(ChunkStoreError) {
        guard !key.isEmpty, !key.hasPrefix("/"), !key.hasSuffix("/"), key.utf8.count <= 1024 else {
            throw .invalidObjectKey(key)
        }
        // A leading dot at the top is reserved for the backends' own files (a local store's `.tmp/`).
        guard !key.hasPrefix(".") else { throw .invalidObjectKey(key) }
        for component in key.split(separator: "/", omittingEmptySubsequences: false) {
            guard !component.isEmpty, component != ".", component != "..", !component.hasPrefix(".tmp-"),
                component.utf8.allSatisfy({ isSafe($0) })
            else { throw .invalidObjectKey(key) }
        }
    }

    private static func isSafe(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
    }
}
