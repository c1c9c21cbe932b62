import Foundation
import Synchronization
import SystemIO

/// A shared lock won while an existing store is opened (`Repository.open`'s `lockingAhead`), for the caller's first
/// shared lock to take up.
struct LockAhead: Sendable {
    var record: StoreLock.Record
    /// When its object was written: the lock protects from then on.
    var written: ContinuousClock.Instant
    /// `index/` as listed once the lock was won: a refresh's listing (`Repository.refreshIndex(listed:)`).
    var indexListing: Set<String>
}

/// The lock an opening takes ahead, from the moment the store's config is read until the caller's first lock takes it
/// up: as a store created by `openOrCreate(deferringCreation:)` is written while the caller goes on and its first lock
/// awaits the writing, an existing store's lock is taken while its key is read and derived, and the first lock awaits
/// that.
///
/// Opening an encrypted store is a chain: the config and the key list, then the key object, then the key's
/// derivation (about 0.1 s of CPU); a lock after it is a write, a listing of `locks/` and one of `index/`. Lock
/// objects are plain and their protocol needs only the config (the stale threshold), so they overlap. The config is
/// read first: nothing is written into a location that holds no velero-cas store, or one in another format. An open
/// that fails after that withdraws the lock before it reports the error (`abandon`); a lock not taken up within a
/// refresh interval (nothing refreshes it before) is withdrawn, and so is one the process still has when it ends or
/// is stopped (`StoreLock.withdrawLocksAhead`, `releaseAll`).
final class LockAheadSlot: Sendable {
    private struct State {
        var attempt: Task<LockAhead?, Never>?
        var won: LockAhead?
        var taken = false
    }
    private let state = Mutex(State())

    private init() {}

    /// Starts taking a shared lock for `operation` on `store`, whose `config` was just read.
    static func start(store: any ObjectStore, config: RepositoryConfig, operation: String) -> LockAheadSlot {
        let slot = LockAheadSlot()
        let attempt = Task {
            guard let won = try? await StoreLock.takeAhead(store: store, config: config, operation: operation) else {
                return nil as LockAhead?
            }
            slot.state.withLock { $0.won = won }
            let expiry = config.lockStaleAfter / 6
            Task {
                try? await Task.sleep(for: expiry)
                if StoreLock.claim(won) { await StoreLock.withdraw(won.record, from: store) }
            }
            return won
        }
        slot.state.withLock { $0.attempt = attempt }
        return slot
    }

    /// The index as the lock listed it, once the lock is won (for reading ahead); nil before, or if it was not won.
    var indexListing: Set<String>? { state.withLock { $0.won?.indexListing } }

    /// For the first lock: waits for the attempt and returns the lock, which the caller then owns; nil when it was not
    /// won, was taken already, or was withdrawn. Cancelling the caller stops the attempt (which withdraws it).
    func take() async -> LockAhead? {
        guard
            let attempt = state.withLock({ state -> Task<LockAhead?, Never>? in
                guard !state.taken else { return nil }
                state.taken = true
                return state.attempt
            })
        else { return nil }
        let won = await withTaskCancellationHandler {
            await attempt.value
        } onCancel: {
            attempt.cancel()
        }
        guard let won, StoreLock.claim(won) else { return nil }
        return won
    }

    /// For an open that failed: stops the attempt and withdraws the lock if it was won, before the caller reports
    /// its error.
    func abandon(store: any ObjectStore) async {
        let attempt = state.withLock { state -> Task<LockAhead?, Never>? in
            state.taken = true
            return state.attempt
        }
        attempt?.cancel()
        if let won = await attempt?.value, StoreLock.claim(won) {
            await StoreLock.withdraw(won.record, from: store)
        }
    }
}

extension StoreLock {
    /// Takes a shared lock for `operation` on `store`, whose `config` was just read: written, `locks/` listed and
    /// judged, and `index/` listed, as any lock's first attempt is. Returns nil when a conflicting lock is held (the
    /// attempt is withdrawn, and the caller's own lock waits as usual) or the process is stopping. Registered with
    /// the process while its object exists, so a stop signal removes it (`releaseAll`).
    static func takeAhead(store: any ObjectStore, config: RepositoryConfig, operation: String) async throws
        -> LockAhead?
    {
        let record = Record(
            kind: .shared, id: UUID().uuidString.lowercased(), host: await HostName.current(),
            pid: ProcessInfo.processInfo.processIdentifier, operation: operation, refreshed: Date())
        guard process.withLock({ $0.stopping ? false : $0.acquiring.insert(record.id).inserted }) else { return nil }
        defer { process.withLock { _ = $0.acquiring.remove(record.id) } }
        do {
            let outcome = try await attempt(
                record, store: store, staleAfter: config.lockStaleAfter, listingIndexBeside: false)
            guard outcome.conflicting.isEmpty else {
                await withdraw(record, from: store)
                return nil
            }
            // Listed after the lock was won, so it is a refresh's listing: garbage collection cannot run since.
            let names =
                config.hasPacks
                ? Set(try await store.listAll(prefix: IndexFile.prefix).map(\.key).filter(IndexFile.isIndexKey)) : []
            let registered = process.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.ahead[record.id] = (record, store)
                return true
            }
            guard registered else {
                await withdraw(record, from: store)
                return nil
            }
            return LockAhead(record: record, written: outcome.written, indexListing: names)
        } catch {
            await withdraw(record, from: store)
            throw error
        }
    }

    /// Takes a lock won ahead out of the process's registry: true for the one caller that then owns its object (to
    /// take it up or withdraw it).
    static func claim(_ ahead: LockAhead) -> Bool {
        process.withLock { $0.ahead.removeValue(forKey: ahead.record.id) != nil }
    }

    /// Withdraws the locks won ahead that nothing took up (a command that failed before its lock): for a process
    /// about to end.
    public static func withdrawLocksAhead() async {
        let ahead = process.withLock { state in
            defer { state.ahead = [:] }
            return Array(state.ahead.values)
        }
        for lock in ahead { await withdraw(lock.record, from: lock.store) }
    }
}
