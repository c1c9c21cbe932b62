import Foundation
import Logging
import Synchronization

/// A lock on the store, as an object under `locks/` (restic's protocol, which works on S3 too).
///
/// Backups hold a shared lock and garbage collection an exclusive one. Acquiring writes the lock, then lists
/// `locks/`: a shared lock must see no live exclusive lock, an exclusive lock no other live lock at all, or it
/// withdraws and retries. PUT and LIST are read-after-write consistent on S3 and on a local directory, so two
/// processes cannot both think they won. A held lock is refreshed; one not refreshed for `staleAfter` belongs to a
/// crashed process: it is reported by name, and the next exclusive locker removes it.
public final class StoreLock: Sendable {
    public enum Kind: String, Codable, Sendable { case shared, exclusive }

    public struct Record: Codable, Sendable, Equatable {
        public var kind: Kind
        public var id: String
        public var host: String
        public var pid: Int32
        public var operation: String
        public var refreshed: Date
    }

    public let record: Record
    private let repository: Repository
    private let refresher: Task<Void, Never>
    private let released = Atomic<Bool>(false)

    public var key: String { Self.key(record) }
    static func key(_ record: Record) -> String { "locks/\(record.kind.rawValue)-\(record.id).json" }

    private init(record: Record, repository: Repository, staleAfter: Duration) {
        self.record = record
        self.repository = repository
        refresher = Task { [record] in
            var current = record
            while !Task.isCancelled {
                try? await Task.sleep(for: staleAfter / 4)
                if Task.isCancelled { break }
                current.refreshed = Date()
                try? await repository.store.put(Self.key(current), try StoreJSON.encode(current))
            }
        }
    }

    /// How long a lock may go unrefreshed before it counts as a crashed process's (VELERO_CAS_LOCK_STALE_SECONDS
    /// overrides the default of 30 minutes).
    public static var defaultStaleAfter: Duration {
        let seconds = ProcessInfo.processInfo.environment["VELERO_CAS_LOCK_STALE_SECONDS"].flatMap(Double.init)
        return .milliseconds(Int((seconds ?? 1800) * 1000))
    }

    /// Takes a lock, retrying (with jitter) for up to `wait` while another process holds a conflicting one.
    public static func acquire(
        _ kind: Kind, repository: Repository, operation: String, staleAfter: Duration = defaultStaleAfter,
        wait: Duration = .seconds(60)
    ) async throws -> StoreLock {
        let record = Record(
            kind: kind, id: UUID().uuidString.lowercased(), host: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier, operation: operation, refreshed: Date())
        let deadline = ContinuousClock.now + wait
        while true {
            try await repository.store.put(key(record), try StoreJSON.encode(record))
            try await repository.store.sync()
            let others = try await locks(repository).filter { $0.id != record.id }
            let stale = others.filter { isStale($0, staleAfter: staleAfter) }
            for lock in stale {
                Logger(label: "velero-cas.lock").warning(
                    "stale \(lock.kind.rawValue) lock \(lock.id) of '\(lock.operation)' (pid \(lock.pid) on \(lock.host), last refreshed \(lock.refreshed)) belongs to a process that is gone"
                )
            }
            let live = others.filter { !isStale($0, staleAfter: staleAfter) }
            let conflicting = kind == .exclusive ? live : live.filter { $0.kind == .exclusive }
            if conflicting.isEmpty {
                if kind == .exclusive {
                    for lock in stale { try await repository.store.delete(key(lock)) }
                } else {
                    // Chunks this process knew of before may have been collected while it held no lock.
                    await repository.forgetKnownChunks()
                }
                return StoreLock(record: record, repository: repository, staleAfter: staleAfter)
            }
            try await repository.store.delete(key(record))
            guard ContinuousClock.now < deadline else {
                let holders = conflicting.map {
                    "\($0.kind.rawValue) lock of '\($0.operation)' (pid \($0.pid) on \($0.host))"
                }
                throw LockError.busy(holders: holders)
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
        }
    }

    /// Every lock object in the store.
    public static func locks(_ repository: Repository) async throws -> [Record] {
        var records: [Record] = []
        for object in try await repository.store.listAll(prefix: "locks/") where object.key.hasSuffix(".json") {
            if let record = try? await repository.record(Record.self, key: object.key) { records.append(record) }
        }
        return records
    }

    static func isStale(_ record: Record, staleAfter: Duration) -> Bool {
        Date().timeIntervalSince(record.refreshed) > Double(staleAfter.components.seconds) + Double(
            staleAfter.components.attoseconds) / 1e18
    }

    /// Runs `body` holding a lock of `kind`, releasing it however `body` ends.
    public static func withLock<T: Sendable>(
        _ kind: Kind, repository: Repository, operation: String, staleAfter: Duration = defaultStaleAfter,
        wait: Duration = .seconds(60), _ body: () async throws -> T
    ) async throws -> T {
        let lock = try await acquire(
            kind, repository: repository, operation: operation, staleAfter: staleAfter, wait: wait)
        do {
            let result = try await body()
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    public func release() async {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        refresher.cancel()
        try? await repository.store.delete(key)
    }

    deinit { refresher.cancel() }
}

public enum LockError: Error, CustomStringConvertible, Sendable {
    case busy(holders: [String])

    public var description: String {
        switch self {
        case .busy(let holders): "the store is in use: \(holders.joined(separator: "; ")); try again when it finishes"
        }
    }
}
