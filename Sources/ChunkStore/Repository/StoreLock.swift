import Foundation
import Logging
import Synchronization
import SystemIO

/// A lock on the store, as an object under `locks/` (restic's protocol, which works on S3 too).
///
/// Backups, collections and restores hold a shared lock and garbage collection an exclusive one. Acquiring writes
/// the lock, then lists `locks/`: a shared lock must see no live exclusive lock, an exclusive lock no other live lock
/// at all, or it withdraws and retries. PUT and LIST are read-after-write consistent on S3 and on a local directory,
/// so two processes cannot both think they won.
///
/// Fail closed:
/// - A lock is stale when the store's own clock says it was last written more than the store's `lockStaleSeconds`
///   ago (the listing's modification times of the lock and of the locker's own, just written, lock): neither
///   host's clock is trusted. The holder's refresh sequence and time are kept in the object for people to read.
/// - A lock object that cannot be read counts as held (unless stale by the store's clock).
/// - Lock objects are written and removed as volatile objects (`ObjectStore.putVolatile`): they coordinate live
///   processes only, so no commit barrier waits for them, and not even their own file is flushed; after a power
///   cut a lock may be gone, back, or torn, and in each case its holder is gone too (the lock goes stale).
/// - The holder refreshes its lock every sixth of the stale threshold. If it has not refreshed successfully for half
///   the threshold, or finds its lock object removed, the lock is lost: the operation is cancelled, and every commit
///   point (`Repository.commitRecord`, reference lists, garbage collection's deletions) checks `ensureHeld()` first,
///   so nothing more is committed under a lock that another process may already consider stale.
public final class StoreLock: Sendable {
    public enum Kind: String, Codable, Sendable { case shared, exclusive }

    public struct Record: Codable, Sendable, Equatable {
        public var kind: Kind
        public var id: String
        public var host: String
        public var pid: Int32
        public var operation: String
        /// The holder's clock at its latest refresh (informational: staleness is judged on the store's clock).
        public var refreshed: Date
        /// How many times the holder has refreshed the lock.
        public var sequence: Int?

        public init(
            kind: Kind, id: String, host: String, pid: Int32, operation: String, refreshed: Date, sequence: Int? = 0
        ) {
            self.kind = kind
            self.id = id
            self.host = host
            self.pid = pid
            self.operation = operation
            self.refreshed = refreshed
            self.sequence = sequence
        }
    }

    /// A lock as a listing finds it.
    public struct Observed: Sendable {
        public var record: Record
        public var key: String
        /// When the store last saw it written, by the store's clock.
        public var modified: Date?
        /// Set when the object could not be read; such a lock counts as held.
        public var unreadable: String?
    }

    private struct State {
        var lastRefresh: ContinuousClock.Instant
        var sequence = 0
        var lost: String?
        var released = false
    }

    public let record: Record
    public let staleAfter: Duration
    private let repository: Repository
    private let state: Mutex<State>
    private let refresher = Mutex<Task<Void, Never>?>(nil)

    /// The locks the current task holds (innermost last); commit points check them.
    @TaskLocal static var held: [StoreLock] = []
    /// The id of the innermost lock the current task holds, recorded in InProgress records.
    public static var currentLockID: String? { held.last?.record.id }
    /// This process's locks, so SIGINT/SIGTERM can give them up: those held, and the ids of those being acquired
    /// (their objects may exist already).
    struct ProcessLocks {
        var held: [String: StoreLock] = [:]
        var acquiring: Set<String> = []
        /// Locks won ahead of their use (`Repository.open`'s `lockingAhead`) and not taken up yet, by id: whoever
        /// removes one from here (the lock taking it up, its expiry, the stop signal) owns its object.
        var ahead: [String: (record: Record, store: any ObjectStore)] = [:]
        var stopping = false
    }
    static let process = Mutex(ProcessLocks())

    public var key: String { Self.key(record) }

    /// Whether some lock of this process on the store at `location` was taken before `instant` and is still held and
    /// not lost: then no garbage collection can have run on that store since `instant`.
    static func protects(_ location: String, since instant: ContinuousClock.Instant) -> Bool {
        let held = process.withLock { Array($0.held.values) }
        return held.contains { lock in
            lock.repository.store.location == location && lock.acquiredAt < instant
                && lock.state.withLock { $0.lost == nil && !$0.released }
        }
    }
    static func key(_ record: Record) -> String { "locks/\(record.kind.rawValue)-\(record.id).json" }

    private let acquiredAt: ContinuousClock.Instant

    private init(record: Record, repository: Repository, staleAfter: Duration, acquiredAt: ContinuousClock.Instant) {
        self.acquiredAt = acquiredAt
        self.record = record
        self.repository = repository
        self.staleAfter = staleAfter
        state = Mutex(State(lastRefresh: acquiredAt))
    }

    private var refreshInterval: Duration { staleAfter / 6 }
    private var lossThreshold: Duration { staleAfter / 2 }

    private func startRefreshing() {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let interval = self?.refreshInterval else { return }
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.refreshOnce()
            }
        }
        refresher.withLock { $0 = task }
    }

    /// One refresh: the lock must still exist (a process that judged it stale may have removed it and be collecting
    /// now; writing it again would hide that), then it is rewritten with the next sequence number.
    private func refreshOnce() async {
        let started = ContinuousClock.now
        let next = state.withLock { $0.sequence + 1 }
        var updated = record
        updated.sequence = next
        updated.refreshed = Date()
        do {
            guard try await repository.store.size(of: key) != nil else {
                markLost("its lock object \(key) was removed by another process that judged it stale")
                return
            }
            try await repository.store.putVolatile(key, try StoreJSON.encode(updated), tornAfterPowerCut: true)
            state.withLock { state in
                state.sequence = next
                state.lastRefresh = started
            }
        } catch {
            Logger(label: "velero-cas.lock").warning("refreshing lock \(record.id) failed: \(error)")
            _ = try? check()  // marks the lock lost once it is overdue
        }
    }

    private func markLost(_ reason: String) {
        state.withLock { if $0.lost == nil { $0.lost = reason } }
        Logger(label: "velero-cas.lock").error("lost the store lock of '\(record.operation)': \(reason)")
    }

    /// Throws `LockError.lost` when the lock can no longer be trusted: released, found removed, or not refreshed
    /// for half the stale threshold.
    public func check() throws(LockError) {
        let (lost, released, last) = state.withLock { ($0.lost, $0.released, $0.lastRefresh) }
        if let lost { throw .lost(operation: record.operation, reason: lost) }
        if released { throw .lost(operation: record.operation, reason: "the lock was released") }
        let since = ContinuousClock.now - last
        if since > lossThreshold {
            let reason =
                "it could not be refreshed for \(since.components.seconds) s (the store's stale threshold is \(staleAfter.components.seconds) s)"
            markLost(reason)
            throw .lost(operation: record.operation, reason: reason)
        }
    }

    /// Checks every lock the current task holds, locally only (no request): released, lost, or overdue.
    static func checkHeld() throws(LockError) {
        for lock in held { try lock.check() }
    }

    /// Checks every lock the current task holds, locally and against the store (its object must still exist).
    /// Called before each commit and before garbage collection deletes anything.
    public static func ensureHeld() async throws {
        for lock in held {
            try lock.check()
            guard try await lock.repository.store.size(of: lock.key) != nil else {
                lock.markLost("its lock object \(lock.key) is gone (another process judged it stale)")
                throw LockError.lost(operation: lock.record.operation, reason: "its lock object was removed")
            }
        }
    }

    /// Takes a lock, retrying (with jitter) for up to `wait` while another process holds a conflicting one. The
    /// stale threshold is the store's (`RepositoryConfig.lockStaleSeconds`).
    public static func acquire(
        _ kind: Kind, repository: Repository, operation: String, wait: Duration = .seconds(60)
    ) async throws -> StoreLock {
        try await acquire(kind, repository: repository, operation: operation, wait: wait, alongsideRefresh: {}).lock
    }

    /// `acquire`, running `early` once the lock is won, beside the refresh of the index (see `withLock`).
    static func acquire<Early: Sendable>(
        _ kind: Kind, repository: Repository, operation: String, wait: Duration,
        alongsideRefresh early: @escaping @Sendable () async throws -> Early
    ) async throws -> (lock: StoreLock, early: Early) {
        // A lock the store's opening took ahead (`Repository.open`'s `lockingAhead`) is this one if it is shared and
        // was won less than a refresh interval ago (nothing refreshed it); otherwise it is withdrawn (an exclusive
        // lock would conflict with it) and this one taken as usual.
        if let ahead = await repository.lockAhead?.take() {
            guard kind == .shared, ContinuousClock.now - ahead.written < repository.config.lockStaleAfter / 6 else {
                await withdraw(ahead.record, from: repository.store)
                return try await acquire(
                    kind, repository: repository, operation: operation, wait: wait, alongsideRefresh: early)
            }
            do {
                return try await won(
                    ahead.record, written: ahead.written, repository: repository, indexListing: ahead.indexListing,
                    early: early)
            } catch {
                await withdraw(ahead.record, from: repository.store)
                throw error
            }
        }
        let record = Record(
            kind: kind, id: UUID().uuidString.lowercased(), host: await HostName.current(),
            pid: ProcessInfo.processInfo.processIdentifier, operation: operation, refreshed: Date())
        // Registered while its object may exist, so a stop signal in the middle of acquiring still removes it.
        guard process.withLock({ $0.stopping ? false : $0.acquiring.insert(record.id).inserted }) else {
            throw LockError.lost(operation: operation, reason: "the process is stopping")
        }
        defer { process.withLock { _ = $0.acquiring.remove(record.id) } }
        do {
            return try await acquireRegistered(record, repository: repository, wait: wait, early: early)
        } catch {
            await withdraw(record, from: repository.store)
            throw error
        }
    }

    /// Removes a lock object that was not won or not taken up, also when the caller is cancelled (a cancelled
    /// request would not be sent), before the caller reports its error.
    static func withdraw(_ record: Record, from store: any ObjectStore) async {
        let key = key(record)
        await Task { try? await store.deleteVolatile(key) }.value
    }

    private static func acquireRegistered<Early: Sendable>(
        _ record: Record, repository: Repository, wait: Duration,
        early: @escaping @Sendable () async throws -> Early
    ) async throws -> (lock: StoreLock, early: Early) {
        let staleAfter = repository.config.lockStaleAfter
        // A store this process is still creating exists before its first lock is written.
        try await repository.awaitCreation()
        let deadline = ContinuousClock.now + wait
        while true {
            // A store this process has just made lists its index beside the locks (one round trip less): an empty
            // listing is the refresh (`Repository.refreshIndex(listed:)`), any other is not used.
            let outcome = try await attempt(
                record, store: repository.store, staleAfter: staleAfter,
                listingIndexBeside: repository.listsIndexBesideLocks)
            if outcome.conflicting.isEmpty {
                if record.kind == .exclusive {
                    for lock in outcome.stale { try await repository.store.delete(lock.key) }
                }
                let listedEmpty = outcome.indexBeside.map { !$0.contains { IndexFile.isIndexKey($0.key) } } ?? false
                return try await won(
                    record, written: outcome.written, repository: repository, indexListing: listedEmpty ? [] : nil,
                    early: early)
            }
            try await repository.store.deleteVolatile(key(record))
            guard ContinuousClock.now < deadline else {
                throw LockError.busy(holders: outcome.conflicting.map(\.holderDescription))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
        }
    }

    /// What one attempt at a lock found: when its object was written, the live locks it conflicts with, the stale
    /// ones, and the listing of `index/` sent beside the listing of `locks/` (if asked for).
    struct Attempt: Sendable {
        var written: ContinuousClock.Instant
        var conflicting: [Observed]
        var stale: [Observed]
        var indexBeside: [ObjectInfo]?
    }

    /// One attempt: writes the lock object, then lists `locks/` and judges the others. The lock is won when
    /// `conflicting` is empty (its object is written and no conflicting lock was listed after it); otherwise the
    /// caller withdraws it. Lock objects are plain in an encrypted store, so `store` may be the raw one.
    static func attempt(_ record: Record, store: any ObjectStore, staleAfter: Duration, listingIndexBeside: Bool)
        async throws -> Attempt
    {
        let written = ContinuousClock.now
        // Volatile: a lock only has to be seen by live processes, and a power cut ends them all; a lock left torn by
        // one counts as held until it is stale, as any unreadable lock does.
        try await store.putVolatile(key(record), try StoreJSON.encode(record), tornAfterPowerCut: true)
        async let indexListing: [ObjectInfo]? =
            listingIndexBeside ? try? store.listAll(prefix: IndexFile.prefix) : nil
        let all = try await observe(store, own: record)
        let storeNow = all.first { $0.record.id == record.id }?.modified
        let others = all.filter { $0.record.id != record.id }
        let stale = others.filter { isStale($0, storeNow: storeNow, staleAfter: staleAfter) }
        for lock in stale {
            Logger(label: "velero-cas.lock").warning(
                "stale \(lock.record.kind.rawValue) lock \(lock.record.id) of '\(lock.record.operation)' (pid \(lock.record.pid) on \(lock.record.host), refresh \(lock.record.sequence ?? 0)) belongs to a process that is gone"
            )
        }
        let live = others.filter { !isStale($0, storeNow: storeNow, staleAfter: staleAfter) }
        let conflicting = record.kind == .exclusive ? live : live.filter { $0.record.kind == .exclusive }
        return Attempt(written: written, conflicting: conflicting, stale: stale, indexBeside: await indexListing)
    }

    /// The lock is won: the index is refreshed (from `indexListing`, names listed after the lock was won, when the
    /// table knows nothing yet; see `Repository.refreshIndex(listed:)`) while `early` runs, then the lock is
    /// registered and refreshed from now on.
    static func won<Early: Sendable>(
        _ record: Record, written: ContinuousClock.Instant, repository: Repository, indexListing: Set<String>?,
        early: @escaping @Sendable () async throws -> Early
    ) async throws -> (lock: StoreLock, early: Early) {
        // Which chunks exist may have changed while this process held no lock (garbage collection). `early` runs
        // beside the refresh: the lock is won (its object is written and no conflicting lock was listed after it),
        // so garbage collection has finished and cannot start until it is released.
        async let refreshed: Void =
            repository.config.hasPacks ? repository.refreshIndex(listed: indexListing) : ()
        let earlyResult = try await early()
        try await refreshed
        let lock = StoreLock(
            record: record, repository: repository, staleAfter: repository.config.lockStaleAfter,
            acquiredAt: written)
        let registered = process.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.held[record.id] = lock
            return true
        }
        guard registered else {
            throw LockError.lost(operation: record.operation, reason: "the process is stopping")
        }
        lock.startRefreshing()
        return (lock, earlyResult)
    }

    /// Every lock object in the store, readable or not. The others are read at once (each is a round trip on an
    /// object store); `own`, the caller's just-written record, is taken from the listing without reading it back.
    public static func observe(_ repository: Repository, own: Record? = nil) async throws -> [Observed] {
        try await observe(repository.store, own: own)
    }

    /// `observe` on a store (lock objects are plain: an encrypted store's raw store reads them too).
    static func observe(_ store: any ObjectStore, own: Record? = nil) async throws -> [Observed] {
        let objects = try await store.listAll(prefix: "locks/").filter { $0.key.hasSuffix(".json") }
        let slots = AsyncSemaphore(permits: 16)
        return try await withThrowingTaskGroup(of: Observed?.self) { group in
            for object in objects {
                if let own, object.key == key(own) {
                    group.addTask { Observed(record: own, key: object.key, modified: object.modified) }
                    continue
                }
                try await slots.acquire()
                group.addTask {
                    defer { slots.release() }
                    do {
                        let record = try StoreJSON.decode(
                            Record.self, from: try await store.get(object.key), key: object.key)
                        return Observed(record: record, key: object.key, modified: object.modified)
                    } catch ChunkStoreError.objectNotFound {
                        return nil  // released between the listing and the read
                    } catch {
                        let name = String(object.key.dropFirst("locks/".count).dropLast(".json".count))
                        let placeholder = Record(
                            kind: .exclusive, id: name, host: "?", pid: 0, operation: "unreadable lock \(object.key)",
                            refreshed: .distantPast, sequence: nil)
                        return Observed(
                            record: placeholder, key: object.key, modified: object.modified, unreadable: "\(error)")
                    }
                }
            }
            var found: [Observed] = []
            for try await observed in group { if let observed { found.append(observed) } }
            return found.sorted { $0.key < $1.key }
        }
    }

    /// Every readable lock record in the store.
    public static func locks(_ repository: Repository) async throws -> [Record] {
        try await observe(repository).filter { $0.unreadable == nil }.map(\.record)
    }

    /// Whether a lock is stale: by the store's clock when the listing carries modification times (`storeNow` is the
    /// time the store gave the locker's own lock, written just before), else by the holder's recorded time.
    static func isStale(_ lock: Observed, storeNow: Date?, staleAfter: Duration) -> Bool {
        let limit = Double(staleAfter.components.seconds) + Double(staleAfter.components.attoseconds) / 1e18
        if let storeNow, let modified = lock.modified { return storeNow.timeIntervalSince(modified) > limit }
        if lock.unreadable != nil { return false }
        return Date().timeIntervalSince(lock.record.refreshed) > limit
    }

    /// The ids of the locks that are not stale now, for showing operations that a dead process left InProgress.
    /// Display only, so "now" is this host's clock; garbage collection, which acts on it, decides under its
    /// exclusive lock (no live lock exists then).
    public static func liveLockIDs(_ repository: Repository) async throws -> Set<String> {
        let staleAfter = repository.config.lockStaleAfter
        return Set(
            try await observe(repository).filter { !isStale($0, storeNow: Date(), staleAfter: staleAfter) }.map(
                \.record.id))
    }

    /// Runs `body` holding a lock of `kind`, releasing it however `body` ends. If the lock is lost meanwhile, `body`
    /// is cancelled and this throws `LockError.lost` (commit points inside `body` refuse to commit before that).
    public static func withLock<T: Sendable>(
        _ kind: Kind, repository: Repository, operation: String, wait: Duration = .seconds(60),
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withLock(
            kind, repository: repository, operation: operation, wait: wait, alongsideRefresh: {},
            { _ in try await body() })
    }

    /// `withLock`, with a first step `early` that needs the lock but not the refreshed index: it runs as soon as
    /// the lock is won, beside the index's refresh (one round trip less on an object store: a restore reads its
    /// snapshot's record again there), and `body` gets its result.
    public static func withLock<T: Sendable, Early: Sendable>(
        _ kind: Kind, repository: Repository, operation: String, wait: Duration = .seconds(60),
        alongsideRefresh early: @escaping @Sendable () async throws -> Early,
        _ body: @escaping @Sendable (Early) async throws -> T
    ) async throws -> T {
        // A lock this task already holds on the same store covers this one (any lock covers a shared one, only an
        // exclusive one an exclusive one): it stays held, watched and refreshed for the whole of `body`, which runs
        // inside the outer lock's body. On an object store each lock taken costs five round trips (write, list,
        // refresh the index, check, delete); a backup took a second one for its resource collection.
        if let outer = held.first(where: {
            $0.repository === repository && (kind == .shared || $0.record.kind == .exclusive)
        }) {
            try outer.check()
            let first = try await early()
            return try await body(first)
        }
        let (lock, first) = try await acquire(
            kind, repository: repository, operation: operation, wait: wait, alongsideRefresh: early)
        do {
            let result = try await $held.withValue(held + [lock]) {
                try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask { try await body(first) }
                    group.addTask {
                        while true {
                            try lock.check()
                            try await Task.sleep(for: .milliseconds(200))
                        }
                    }
                    guard let first = try await group.next(), let value = first else {
                        throw LockError.lost(operation: operation, reason: "the lock watcher stopped")
                    }
                    group.cancelAll()
                    return value
                }
            }
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    public func release() async {
        let wasReleased = state.withLock { state in
            defer { state.released = true }
            return state.released
        }
        guard !wasReleased else { return }
        refresher.withLock { $0?.cancel() }
        Self.process.withLock { _ = $0.held.removeValue(forKey: record.id) }
        try? await repository.store.deleteVolatile(key)
    }

    /// The first step of stopping the process (SIGINT, SIGTERM), safe to call from a signal handler's queue: no
    /// new lock is taken from now on, and every held lock is marked lost, so no commit passes its check any more.
    public static func beginStopping() {
        let all = process.withLock { state in
            state.stopping = true
            return Array(state.held.values)
        }
        for lock in all { lock.state.withLock { $0.lost = $0.lost ?? "the process is stopping" } }
    }

    /// Gives up every lock this process holds: `beginStopping()`, then locks being acquired finish withdrawing (for
    /// up to two seconds) and the held ones' objects are removed.
    public static func releaseAll() async {
        beginStopping()
        let deadline = ContinuousClock.now + .seconds(2)
        while process.withLock({ !$0.acquiring.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        await withdrawLocksAhead()
        for lock in process.withLock({ Array($0.held.values) }) { await lock.release() }
    }

    deinit { refresher.withLock { $0?.cancel() } }
}

extension StoreLock.Observed {
    var holderDescription: String {
        if let unreadable {
            return
                "\(key), which cannot be read (\(unreadable)); it counts as held until it is stale or removed with 'velero-cas store unlock'"
        }
        return "\(record.kind.rawValue) lock of '\(record.operation)' (pid \(record.pid) on \(record.host))"
    }
}

public enum LockError: Error, CustomStringConvertible, Sendable {
    case busy(holders: [String])
    case lost(operation: String, reason: String)

    public var description: String {
        switch self {
        case .busy(let holders): "the store is in use: \(holders.joined(separator: "; ")); try again when it finishes"
        case .lost(let operation, let reason):
            "'\(operation)' stopped: its store lock is lost (\(reason)); nothing more was committed"
        }
    }
}
