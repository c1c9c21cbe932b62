import Foundation
import Synchronization
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

@Suite("Store locks fail closed; syncs are barriers per caller")
struct StoreLockTests {
    /// A store whose locks go stale after one second: refreshed every 1/6 s, lost after 1/2 s without a refresh.
    static func repository(_ temp: TemporaryDirectory, store: (LocalDirectoryStore) -> any ObjectStore = { $0 })
        async throws -> Repository
    {
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        return try await Repository.openOrCreate(store(local), config: RepositoryConfig(lockStaleSeconds: 1))
    }

    /// Runs `body` under a shared lock; the body waits `seconds` without heeding cancellation, then commits a record.
    static func commitLate(_ repository: Repository, after seconds: Double) async throws {
        try await StoreLock.withLock(.shared, repository: repository, operation: "late commit") {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline { await Task.yield() }
            try await repository.commitRecord(["x": 1], key: "records/late.json")
        }
    }

    /// Waits until the operation holds its lock.
    static func waitForLock(_ repository: Repository) async throws {
        while try await repository.store.listAll(prefix: "locks/").isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test("a lock this task holds covers a nested one of the same store (no second lock object); a wider one does not")
    func nestedLocks() async throws {
        let temp = try TemporaryDirectory("lock-nested")
        defer { temp.remove() }
        // The store's default stale threshold: this test is about covering, not about losing a lock under load.
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        let objects = try await StoreLock.withLock(.shared, repository: repository, operation: "outer") {
            try await StoreLock.withLock(.shared, repository: repository, operation: "inner") {
                try await repository.store.listAll(prefix: "locks/").count
            }
        }
        #expect(objects == 1, "the inner shared lock reused the outer one")
        let exclusive = try await StoreLock.withLock(.exclusive, repository: repository, operation: "outer gc") {
            try await StoreLock.withLock(.shared, repository: repository, operation: "inner") {
                try await repository.store.listAll(prefix: "locks/").map(\.key)
            }
        }
        #expect(exclusive.count == 1 && exclusive[0].hasPrefix("locks/exclusive-"))
        // A shared lock does not cover an exclusive one: the inner one is a lock of its own, refused while the outer
        // shared lock is live.
        await #expect(throws: LockError.self) {
            try await StoreLock.withLock(.shared, repository: repository, operation: "outer") {
                try await StoreLock.withLock(
                    .exclusive, repository: repository, operation: "inner gc", wait: .milliseconds(100)
                ) {}
            }
        }
        #expect(try await repository.store.listAll(prefix: "locks/").isEmpty, "every lock released")
    }

    @Test("a lock whose refresh fails is lost: the operation stops and nothing more is committed")
    func refreshFailure() async throws {
        let temp = try TemporaryDirectory("lock-refresh")
        defer { temp.remove() }
        // A store that stops answering the lock's refresh.
        var failing: WriteRefusingStore?
        let repository = try await Self.repository(temp) { local in
            let store = WriteRefusingStore(base: local, refusing: false) { $0.hasPrefix("locks/") }
            failing = store
            return store
        }
        let attempt = Task { try await Self.commitLate(repository, after: 1.2) }
        try await Self.waitForLock(repository)
        failing?.refusing = true
        let error = await #expect(throws: LockError.self) { try await attempt.value }
        guard case .lost? = error else {
            Issue.record("expected a lost lock, got \(String(describing: error))"); return
        }
        #expect(try await repository.store.size(of: "records/late.json") == nil, "nothing was committed")
    }

    @Test("a lock removed by another process (judged stale) is lost: nothing more is committed")
    func removedLock() async throws {
        let temp = try TemporaryDirectory("lock-removed")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        let attempt = Task { try await Self.commitLate(repository, after: 0.4) }
        try await Self.waitForLock(repository)
        for lock in try await repository.store.listAll(prefix: "locks/") { try await repository.store.delete(lock.key) }
        await #expect(throws: LockError.self) { try await attempt.value }
        #expect(try await repository.store.size(of: "records/late.json") == nil, "nothing was committed")
        #expect(try await repository.store.listAll(prefix: "locks/").isEmpty, "the refresh did not bring it back")
    }

    @Test("a lock object that cannot be read counts as held until the store's clock shows it stale")
    func unreadableLock() async throws {
        let temp = try TemporaryDirectory("lock-unreadable")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try await repository.store.put("locks/exclusive-garbage.json", Array("{not json".utf8))
        // Fresh by the store's clock for the whole first attempt, however slowly a busy machine gets to it (the
        // store's stale threshold here is short).
        try FileSystem.setModificationTime(
            temp.sub("store/locks/exclusive-garbage.json"), seconds: Int64(Date().timeIntervalSince1970) + 60,
            nanoseconds: 0)
        let error = await #expect(throws: LockError.self) {
            _ = try await StoreLock.acquire(
                .shared, repository: repository, operation: "backup", wait: .milliseconds(300))
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("cannot be read"))
        try FileSystem.setModificationTime(
            temp.sub("store/locks/exclusive-garbage.json"), seconds: Int64(Date().timeIntervalSince1970) - 60,
            nanoseconds: 0)
        let gc = try await StoreLock.acquire(.exclusive, repository: repository, operation: "gc", wait: .seconds(1))
        #expect(try await repository.store.size(of: "locks/exclusive-garbage.json") == nil, "the stale one was removed")
        await gc.release()
    }

    @Test("a sync running beside another that is still flushing a directory does not return before flushing it too")
    func concurrentSyncs() async throws {
        let temp = try TemporaryDirectory("sync-barrier")
        defer { temp.remove() }
        let firstStarted = AsyncStream<Void>.makeStream()
        let gate = Mutex<(calls: [String], held: Bool)>(([], false))
        let release = DispatchSemaphore(value: 0)
        let store = try LocalDirectoryStore(
            root: temp.path, create: true, pool: .shared,
            directorySync: { directory in
                let holdThisOne = gate.withLock { state -> Bool in
                    state.calls.append(directory)
                    defer { state.held = true }
                    return !state.held
                }
                if holdThisOne {
                    firstStarted.continuation.yield()
                    release.wait()  // the first fsync is slow
                }
                try FileSystem.syncDirectory(directory)
            })
        try await store.put("a/x", [1])
        let first = Task { try await store.sync() }
        var iterator = firstStarted.stream.makeAsyncIterator()
        await iterator.next()
        // The first sync is inside its fsync of "a"; a second caller needs "a" durable too.
        try await store.sync()
        #expect(
            gate.withLock { $0.calls.filter { $0.hasSuffix("/a") }.count } == 2, "the second sync flushed 'a' itself")
        release.signal()
        try await first.value
        let before = gate.withLock { $0.calls.count }
        try await store.sync()
        #expect(gate.withLock { $0.calls.count } == before, "nothing is left dirty afterwards")
    }
    @Test("volatile writes (locks, logs) are visible at once and add nothing to a barrier")
    func volatileWritesSkipTheBarrier() async throws {
        let temp = try TemporaryDirectory("sync-volatile")
        defer { temp.remove() }
        let synced = Mutex<[String]>([])
        let store = try LocalDirectoryStore(
            root: temp.path, create: true, pool: .shared,
            directorySync: { directory in
                synced.withLock { $0.append(directory) }
                try FileSystem.syncDirectory(directory)
            })
        try await store.put("locks/old", [0])
        try await store.sync()
        synced.withLock { $0 = [] }
        try await store.putVolatile("locks/new", [1])
        try await store.deleteVolatile("locks/old")
        try await store.sync()
        #expect(synced.withLock { $0 }.isEmpty, "no directory to flush")
        #expect(try await store.get("locks/new") == [1], "a volatile put is seen at once")
        #expect(try await store.size(of: "locks/old") == nil, "a volatile delete too")

        try await store.putVolatile("new/volatile", [2])
        try await store.sync()
        #expect(
            Set(synced.withLock { $0 }) == [temp.path, temp.sub("new")], "a directory made on the way is made durable")
        synced.withLock { $0 = [] }
        try await store.put("locks/plain", [3])
        try await store.sync()
        #expect(synced.withLock { $0 } == [temp.sub("locks")], "a plain put is part of the next barrier")
    }

    @Test("the power-cut model may lose a volatile write after any number of syncs, a synced plain one never")
    func powerCutModelOfVolatileWrites() async throws {
        let temp = try TemporaryDirectory("sync-volatile-model")
        defer { temp.remove() }
        let store = FaultInjectingStore(base: try LocalDirectoryStore(root: temp.path, create: true))
        try await store.put("a/plain", [1])
        try await store.putVolatile("a/volatile", [2])
        try await store.put("a/replaced", [3])
        try await store.sync()
        try await store.putVolatile("a/replaced", [4])
        try await store.sync()
        try await store.put("b/other", [5])
        try await store.sync()
        let reverted = try await store.powerLoss(seed: 1, dropAll: true)
        #expect(reverted.sorted() == ["a/replaced", "a/volatile"])
        #expect(try await store.get("a/plain") == [1])
        #expect(try await store.size(of: "a/volatile") == nil)
        #expect(try await store.get("a/replaced") == [3], "back to the last synced plain write")
    }
}
