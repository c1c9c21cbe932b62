import ChunkStore
import Synchronization

/// An `ObjectStore` that forwards to another and counts `put` calls per key, to prove what was (not) uploaded.
final class CountingStore: ObjectStore {
    let base: any ObjectStore
    private let puts = Mutex<[String: Int]>([:])

    init(_ base: any ObjectStore) { self.base = base }

    var location: String { base.location }
    /// Puts per key so far.
    var putCounts: [String: Int] { puts.withLock { $0 } }
    /// Puts of chunk objects (`chunks/...`) so far.
    var chunkPuts: Int { putCounts.filter { $0.key.hasPrefix("chunks/") }.values.reduce(0, +) }

    func checkAccess() async throws { try await base.checkAccess() }

    func put(_ key: String, _ bytes: [UInt8]) async throws {
        puts.withLock { $0[key, default: 0] += 1 }
        try await base.put(key, bytes)
    }

    func get(_ key: String) async throws -> [UInt8] { try await base.get(key) }
    func size(of key: String) async throws -> Int? { try await base.size(of: key) }
    func delete(_ key: String) async throws { try await base.delete(key) }
    func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }
    func sync() async throws { try await base.sync() }
}
