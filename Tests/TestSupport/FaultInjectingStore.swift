import ChunkStore
import Foundation
import SampleData
import Synchronization

/// The process "stopped" here: every call after the crash point throws this.
public struct SimulatedCrash: Error, CustomStringConvertible {
    public var description: String { "simulated crash" }
}

/// Wraps a real store to crash after the k-th write and, optionally, to lose writes a power cut would lose.
///
/// A write is a `put` or a `delete`. After the `crashAfter`-th write completes, that call and every later one throws
/// `SimulatedCrash`, as if the process had been killed there. The wrapper remembers, for every key written since the
/// last `sync()`, the value it had at that sync (the durable one); `powerLoss(seed:)` puts a random subset of those
/// keys back to their durable values (each independently, since a file system persists renames and unlinks of
/// different directories in any order). A write that `sync()` made durable is never lost. A volatile write
/// (`putVolatile`, `deleteVolatile`) stays losable after syncs until a plain write of the same key, or
/// `makeDurableAtNextSync` of it, is synced.
public final class FaultInjectingStore: ObjectStore {
    public let base: any ObjectStore
    private struct State {
        var writes = 0
        var crashAfter: Int?
        var crashed = false
        /// Keys changed since the last sync → their durable content (nil: absent).
        var undurable: [String: [UInt8]?] = [:]
        /// Keys whose latest write was volatile: a sync does not make them durable.
        var volatile: Set<String> = []
    }
    private let state = Mutex(State())

    public init(base: any ObjectStore, crashAfter: Int? = nil) {
        self.base = base
        state.withLock { $0.crashAfter = crashAfter }
    }

    public var location: String { base.location }
    /// Writes done so far.
    public var writes: Int { state.withLock { $0.writes } }
    public var crashed: Bool { state.withLock { $0.crashed } }

    private func checkAlive() throws {
        if state.withLock({ $0.crashed }) { throw SimulatedCrash() }
    }

    /// Records the durable value of `key` before its first change since the last sync.
    private func rememberDurable(_ key: String) async throws {
        guard state.withLock({ $0.undurable[key] == nil }) else { return }
        let durable: [UInt8]?
        do { durable = try await base.get(key) } catch ChunkStoreError.objectNotFound { durable = nil }
        state.withLock { if $0.undurable[key] == nil { $0.undurable[key] = .some(durable) } }
    }

    private func countWrite() throws {
        let crash = state.withLock { state -> Bool in
            state.writes += 1
            if let limit = state.crashAfter, state.writes >= limit { state.crashed = true }
            return state.crashed
        }
        if crash { throw SimulatedCrash() }
    }

    public func checkAccess() async throws {
        try checkAlive()
        try await base.checkAccess()
    }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        try await write(key, volatile: false) { try await base.put(key, bytes) }
    }

    /// A write that may be left torn is modelled as one that may be lost (torn locks have tests of their own).
    public func putVolatile(_ key: String, _ bytes: [UInt8], tornAfterPowerCut: Bool) async throws {
        try await write(key, volatile: true) {
            try await base.putVolatile(key, bytes, tornAfterPowerCut: tornAfterPowerCut)
        }
    }

    /// From here on the key is an ordinary undurable write: the next sync makes it durable.
    public func makeDurableAtNextSync(_ key: String) async throws {
        try checkAlive()
        state.withLock { _ = $0.volatile.remove(key) }
        try await base.makeDurableAtNextSync(key)
    }

    public func makeDirectories(_ keyPrefixes: [String]) async throws {
        try checkAlive()
        try await base.makeDirectories(keyPrefixes)
    }

    private func write(_ key: String, volatile: Bool, _ body: () async throws -> Void) async throws {
        try checkAlive()
        try await rememberDurable(key)
        state.withLock { state in
            if volatile { state.volatile.insert(key) } else { state.volatile.remove(key) }
        }
        try await body()
        try countWrite()
    }

    public func get(_ key: String) async throws -> [UInt8] {
        try checkAlive()
        return try await base.get(key)
    }

    public func size(of key: String) async throws -> Int? {
        try checkAlive()
        return try await base.size(of: key)
    }

    public func delete(_ key: String) async throws {
        try await write(key, volatile: false) { try await base.delete(key) }
    }

    public func deleteVolatile(_ key: String) async throws {
        try await write(key, volatile: true) { try await base.deleteVolatile(key) }
    }

    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try checkAlive()
        try await base.list(prefix: prefix, page: page)
    }

    public func sync() async throws {
        try checkAlive()
        let seen = state.withLock { $0.undurable }
        try await base.sync()
        state.withLock { state in
            for key in seen.keys where !state.volatile.contains(key) { state.undurable[key] = nil }
        }
    }

    /// A power cut at the crash point: each write not made durable by a sync is lost with probability one half
    /// (`dropAll` loses every one). Returns the keys put back.
    @discardableResult
    public func powerLoss(seed: UInt64, dropAll: Bool = false) async throws -> [String] {
        var random = SplitMix(seed: seed)
        let undurable = state.withLock { $0.undurable }
        var reverted: [String] = []
        for (key, durable) in undurable.sorted(by: { $0.key < $1.key }) {
            guard dropAll || random.next() & 1 == 0 else { continue }
            if let durable { try await base.put(key, durable) } else { try await base.delete(key) }
            reverted.append(key)
        }
        try await base.sync()
        state.withLock { state in
            state.undurable = [:]
            state.volatile = []
        }
        return reverted
    }
}
