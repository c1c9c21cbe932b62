import ChunkStore
import Foundation
import Synchronization

/// The injected failure of one pack request.
public struct InjectedFailure: Error, CustomStringConvertible {
    public var description: String { "injected failure" }
}

/// Wraps a real store to model an object store under load: pack requests (`packs/…`: whole-pack uploads, ranged
/// chunk reads) take `latency`, the `failPut`-th pack put or the `failGet`-th pack read fails, and the wrapper
/// records what was sent after the failure, how many pack requests were in flight at once, and how many were still
/// in flight when a store lock was released (deleted).
public final class SlowFailingStore: ObjectStore {
    public let base: any ObjectStore
    public let latency: Duration
    public struct Counts: Sendable {
        public var packPuts = 0
        public var packGets = 0
        public var inFlight = 0
        public var maxInFlight = 0
        /// Bytes of pack puts in flight, now and at most.
        public var bytesInFlight = 0
        public var maxBytesInFlight = 0
        /// Pack requests started after the injected failure was raised.
        public var startedAfterFailure = 0
        public var failed = false
        /// Pack requests in flight at each lock release.
        public var inFlightAtLockRelease: [Int] = []
    }
    private let failPut: Int?
    private let failGet: Int?
    /// Holds each pack request (before its latency) until this many have been in flight at once, or `patience` has
    /// passed: shows how many requests an operation keeps in flight without depending on how fast a loaded machine
    /// starts them. An operation that cannot reach the count waits out the patience and shows its true maximum.
    private let gather: (count: Int, patience: Duration)?
    private let state = Mutex(Counts())

    public init(
        base: any ObjectStore, latency: Duration, failPut: Int? = nil, failGet: Int? = nil,
        gather: (count: Int, patience: Duration)? = nil
    ) {
        self.base = base
        self.latency = latency
        self.failPut = failPut
        self.failGet = failGet
        self.gather = gather
    }

    public var counts: Counts { state.withLock { $0 } }
    public var location: String { base.location }

    /// Runs one pack request with latency, failing it when it is the chosen one.
    private func packRequest<T>(put: Bool, bytes: Int = 0, _ body: () async throws -> T) async throws -> T {
        let fails = state.withLock { counts -> Bool in
            if counts.failed { counts.startedAfterFailure += 1 }
            counts.inFlight += 1
            counts.maxInFlight = max(counts.maxInFlight, counts.inFlight)
            counts.bytesInFlight += bytes
            counts.maxBytesInFlight = max(counts.maxBytesInFlight, counts.bytesInFlight)
            if put {
                counts.packPuts += 1
                return counts.packPuts == failPut
            }
            counts.packGets += 1
            return counts.packGets == failGet
        }
        defer {
            state.withLock {
                $0.inFlight -= 1
                $0.bytesInFlight -= bytes
            }
        }
        if let gather {
            let deadline = ContinuousClock.now + gather.patience
            while state.withLock({ $0.maxInFlight < gather.count }) && ContinuousClock.now < deadline {
                // Cancelled, the sleep returns at once: stop gathering rather than spin until the deadline.
                do { try await Task.sleep(for: .milliseconds(5)) } catch { break }
            }
        }
        // The request takes its time even when the caller is cancelled, as a request on the wire does.
        try? await Task.sleep(for: latency)
        if fails {
            state.withLock { $0.failed = true }
            throw InjectedFailure()
        }
        return try await body()
    }

    public func checkAccess() async throws { try await base.checkAccess() }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        guard key.hasPrefix(PackLayout.prefix) else { return try await base.put(key, bytes) }
        try await packRequest(put: true, bytes: bytes.count) { try await base.put(key, bytes) }
    }

    public func get(_ key: String) async throws -> [UInt8] {
        guard key.hasPrefix(PackLayout.prefix) else { return try await base.get(key) }
        return try await packRequest(put: false) { try await base.get(key) }
    }

    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        guard key.hasPrefix(PackLayout.prefix) else { return try await base.get(key, range: range) }
        return try await packRequest(put: false) { try await base.get(key, range: range) }
    }

    public func size(of key: String) async throws -> Int? { try await base.size(of: key) }

    public func delete(_ key: String) async throws {
        if key.hasPrefix("locks/") { state.withLock { $0.inFlightAtLockRelease.append($0.inFlight) } }
        try await base.delete(key)
    }

    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await base.list(prefix: prefix, page: page)
    }

    public func sync() async throws { try await base.sync() }
}
