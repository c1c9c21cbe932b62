import ChunkStore
import Synchronization

/// An `ObjectStore` that forwards to another and counts `put` calls per key, to prove what was (not) uploaded.
public final class CountingStore: ObjectStore {
    public let base: any ObjectStore
    private let puts = Mutex<[String: Int]>([:])

    public init(_ base: any ObjectStore) { self.base = base }

    public var location: String { base.location }
    /// Puts per key so far.
    public var putCounts: [String: Int] { puts.withLock { $0 } }
    /// Puts of pack objects (`packs/...`) so far.
    public var packPuts: Int { putCounts.filter { $0.key.hasPrefix(PackLayout.prefix) }.values.reduce(0, +) }

    public func checkAccess() async throws { try await base.checkAccess() }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        puts.withLock { $0[key, default: 0] += 1 }
        try await base.put(key, bytes)
    }

    public func get(_ key: String) async throws -> [UInt8] { try await base.get(key) }
    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] { try await base.get(key, range: range) }
    public func size(of key: String) async throws -> Int? { try await base.size(of: key) }
    public func delete(_ key: String) async throws { try await base.delete(key) }
    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }
    public func sync() async throws { try await base.sync() }
}
