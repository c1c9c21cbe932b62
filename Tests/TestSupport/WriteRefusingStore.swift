import ChunkStore
import Foundation
import Synchronization
import SystemIO

/// A local store that refuses the writes (`put`) of keys `refuses` picks, while `refusing` is on, with an I/O
/// error naming the key: a store that stops answering part-way.
public final class WriteRefusingStore: ObjectStore {
    public let base: LocalDirectoryStore
    private let refuses: @Sendable (String) -> Bool
    private let on: Mutex<Bool>

    public init(base: LocalDirectoryStore, refusing: Bool = true, refuses: @escaping @Sendable (String) -> Bool) {
        self.base = base
        self.refuses = refuses
        on = Mutex(refusing)
    }

    /// Whether matching writes are refused now.
    public var refusing: Bool {
        get { on.withLock { $0 } }
        set { on.withLock { $0 = newValue } }
    }

    public var location: String { base.location }
    public func checkAccess() async throws { try await base.checkAccess() }
    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        if refusing && refuses(key) { throw SystemError("write", path: key, code: EIO) }
        try await base.put(key, bytes)
    }
    public func get(_ key: String) async throws -> [UInt8] { try await base.get(key) }
    public func size(of key: String) async throws -> Int? { try await base.size(of: key) }
    public func delete(_ key: String) async throws { try await base.delete(key) }
    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }
    public func sync() async throws { try await base.sync() }
}
