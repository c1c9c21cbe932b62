import ChunkStore
import Foundation
import Synchronization

/// Wraps a store to prove which requests an operation sends at the same time, not one after the other: it logs every
/// request's start and end (in one sequence), and holds the first request that a rule names until the rule's
/// condition holds on the log (another request has started), or until `patience` has passed. A rule whose condition
/// only comes true after its held request finishes (the two were serial) therefore times out, and says so.
public final class RendezvousStore: ObjectStore {
    public enum Operation: String, Sendable { case put, get, size, delete, list }

    /// One request as the log has it: `started` and `ended` are positions in one sequence of events.
    public struct Request: Sendable, CustomStringConvertible {
        public var operation: Operation
        public var key: String
        public var started: Int
        public var ended: Int?

        public var description: String { "\(operation.rawValue) \(key) [\(started)–\(ended.map(String.init) ?? "…")]" }
    }

    /// Hold the first request that `hold` matches until `until` holds on the log.
    public struct Rule: Sendable {
        public var name: String
        public var hold: @Sendable (Operation, String) -> Bool
        public var until: @Sendable ([Request]) -> Bool

        public init(
            _ name: String, hold: @escaping @Sendable (Operation, String) -> Bool,
            until: @escaping @Sendable ([Request]) -> Bool
        ) {
            self.name = name
            self.hold = hold
            self.until = until
        }
    }

    private struct State {
        var log: [Request] = []
        var sequence = 0
        var used: Set<Int> = []
        var met: [String: Bool] = [:]
    }

    public let base: any ObjectStore
    private let rules: [Rule]
    private let patience: Duration
    private let latency: Duration
    private let state = Mutex(State())

    /// `latency` is added to every request once it has started (an object store's round trip), so requests sent at
    /// the same time overlap in the log.
    public init(
        _ base: any ObjectStore, rules: [Rule] = [], patience: Duration = .seconds(5), latency: Duration = .zero
    ) {
        self.base = base
        self.rules = rules
        self.patience = patience
        self.latency = latency
    }

    /// The longest chain of requests in `log`, each started after the one before it ended, up to and including the
    /// first request `until` matches (nil: none does): how many round trips came one after the other before it.
    public static func serialRoundTrips(_ log: [Request], until: (Request) -> Bool) -> Int? {
        var depth: [Int] = []
        for (index, request) in log.enumerated() {
            let before = log[..<index].indices.filter { (log[$0].ended ?? .max) < request.started }
            depth.append(1 + (before.map { depth[$0] }.max() ?? 0))
            if until(request) { return depth[index] }
        }
        return nil
    }

    /// Every request so far, in the order they started.
    public var log: [Request] { state.withLock { $0.log } }
    /// For each rule that held a request: whether its condition came true before its patience ran out.
    public var outcomes: [String: Bool] { state.withLock { $0.met } }

    public var location: String { base.location }

    private func request<T>(_ operation: Operation, _ key: String, _ body: () async throws -> T) async throws -> T {
        let held = state.withLock { state -> Rule? in
            guard let index = rules.indices.first(where: { !state.used.contains($0) && rules[$0].hold(operation, key) })
            else { return nil }
            state.used.insert(index)
            return rules[index]
        }
        if let held {
            let deadline = ContinuousClock.now + patience
            var met = state.withLock { held.until($0.log) }
            while !met, ContinuousClock.now < deadline {
                // A cancelled request stops waiting and fails, as a store's request does: `try?` here made the
                // loop spin without sleeping until `patience` ran out, holding a cooperative thread all along.
                do { try await Task.sleep(for: .milliseconds(5)) } catch {
                    state.withLock { $0.met[held.name] = false }
                    throw error
                }
                met = state.withLock { held.until($0.log) }
            }
            state.withLock { $0.met[held.name] = met }
        }
        let position = state.withLock { state -> Int in
            state.sequence += 1
            state.log.append(Request(operation: operation, key: key, started: state.sequence))
            return state.log.count - 1
        }
        defer {
            state.withLock { state in
                state.sequence += 1
                state.log[position].ended = state.sequence
            }
        }
        if latency > .zero { try await Task.sleep(for: latency) }
        return try await body()
    }

    public func checkAccess() async throws { try await base.checkAccess() }
    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        try await request(.put, key) { try await base.put(key, bytes) }
    }
    public func get(_ key: String) async throws -> [UInt8] { try await request(.get, key) { try await base.get(key) } }
    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        try await request(.get, key) { try await base.get(key, range: range) }
    }
    public func size(of key: String) async throws -> Int? {
        try await request(.size, key) { try await base.size(of: key) }
    }
    public func delete(_ key: String) async throws { try await request(.delete, key) { try await base.delete(key) } }
    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        try await request(.list, prefix) { try await base.list(prefix: prefix, page: page) }
    }
    public func sync() async throws { try await base.sync() }
}
