import ChunkStore
import Foundation
import SystemIO
import TestSupport
import Testing

/// An existing store's opening takes the caller's lock while it reads the key and derives it
/// (`Repository.open(lockingAhead:)`): the tests hold the read of the key object until the lock is won and the index
/// listed, so an opening that locks only after the key times out; and they check what must not change: nothing is
/// written into a location without a store of this format, a failed or cancelled opening leaves no lock, and a lock
/// nothing takes up goes.
@Suite("Locking while an existing store is opened")
struct LockAheadTests {
    static let password = FixedPassword("lock ahead")

    static func isList(_ request: RendezvousStore.Request, _ prefix: String) -> Bool {
        request.operation == .list && request.key == prefix
    }

    /// The key object's read waits until the lock is won (its listing of `locks/` ended) and `index/` was listed.
    static let keyWaitsForTheLock = RendezvousStore.Rule(
        "the lock is won and the index listed while the key is read",
        hold: { $0 == .get && $1.hasPrefix(StoreKey.prefix) },
        until: { log in
            guard let won = log.first(where: { isList($0, "locks/") })?.ended else { return false }
            return log.contains { isList($0, IndexFile.prefix) && $0.started > won && $0.ended != nil }
        })

    /// An encrypted store with snapshot `first` of a sample tree at `source`, made with the default stale threshold;
    /// then its config says `lockStaleSeconds`, if given (a short one would fail the backup on a loaded machine).
    static func prepared(_ temp: TemporaryDirectory, lockStaleSeconds: Int? = nil)
        async throws -> (source: String, local: LocalDirectoryStore)
    {
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let writer = try await Repository.openOrCreate(
            local, config: RepositoryConfig(encryption: .aes256gcm), passwords: password,
            keyParameters: EncryptionTests.cheap)
        _ = try await TreeBackup(repository: writer).run(source: source, name: "first")
        if let lockStaleSeconds {
            var config = writer.config
            config.lockStaleSeconds = lockStaleSeconds
            try await local.put(RepositoryConfig.key, try StoreJSON.encode(config))
        }
        return (source, local)
    }

    static func locks(_ local: LocalDirectoryStore) async throws -> [String] {
        try await local.listAll(prefix: "locks/").map(\.key)
    }

    /// Waits (up to 10 s) until the store holds a lock object.
    static func waitForALock(_ local: LocalDirectoryStore) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await locks(local).isEmpty {
            try #require(ContinuousClock.now < deadline, "no lock was taken ahead")
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test("a restore's lock is taken while the key is read, and the restore takes it up without a request")
    func restoreTakesUpTheLock() async throws {
        let temp = try TemporaryDirectory("lock-ahead-restore")
        defer { temp.remove() }
        let (source, local) = try await Self.prepared(temp)
        let store = RendezvousStore(local, rules: [Self.keyWaitsForTheLock])
        let repository = try await Repository.open(store, passwords: Self.password, lockingAhead: "restore first")
        _ = try await TreeRestore(repository: repository).run(snapshot: "first", into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(source, temp.sub("restored")).isEmpty)
        #expect(store.outcomes == [Self.keyWaitsForTheLock.name: true], "\(store.log)")

        let log = store.log
        let config = try #require(log.first { $0.operation == .get && $0.key == RepositoryConfig.key })
        let lockWrites = log.filter { $0.operation == .put && $0.key.hasPrefix("locks/") }
        #expect(lockWrites.count == 1, "the restore took a lock of its own: \(log)")
        #expect(lockWrites.allSatisfy { $0.started > config.ended! }, "a lock written before the config was read")
        #expect(log.count { Self.isList($0, "locks/") } == 1, "\(log)")
        #expect(try await Self.locks(local).isEmpty)
    }

    @Test("an incremental backup takes up the lock and reuses its parent")
    func backupTakesUpTheLock() async throws {
        let temp = try TemporaryDirectory("lock-ahead-backup")
        defer { temp.remove() }
        let (source, local) = try await Self.prepared(temp)
        try TestData.random(count: 1 << 20, seed: 11).withUnsafeBytes {
            try FileSystem.writeAtomically(source + "/added", bytes: $0)
        }
        let store = RendezvousStore(local, rules: [Self.keyWaitsForTheLock])
        let repository = try await Repository.open(store, passwords: Self.password, lockingAhead: "snapshot second")
        let snapshot = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(store.outcomes == [Self.keyWaitsForTheLock.name: true], "\(store.log)")
        #expect(snapshot.parent == "first" && snapshot.summary.unchangedFiles == snapshot.summary.files - 1)
        let log = store.log
        #expect(log.count { $0.operation == .put && $0.key.hasPrefix("locks/") } == 1, "\(log)")
        #expect(log.count { Self.isList($0, IndexFile.prefix) } == 1, "\(log)")
        #expect(try await Self.locks(local).isEmpty)

        let reopened = try await Repository.open(local, passwords: Self.password)
        _ = try await TreeRestore(repository: reopened).run(snapshot: "second", into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(source, temp.sub("restored")).isEmpty)
    }

    @Test("with 40 ms per request, an incremental backup's first pack upload comes after fewer serial round trips")
    func fewerRoundTripsBeforeTheFirstUpload() async throws {
        let temp = try TemporaryDirectory("lock-ahead-roundtrips")
        defer { temp.remove() }
        let (source, local) = try await Self.prepared(temp)
        // Two runs each, alternately: a stall on a loaded machine can only lengthen a chain (requests sent together
        // no longer overlap), never shorten it below what the code orders, so the shortest of each is compared.
        var counts: [Bool: [Int]] = [:]
        for (index, ahead) in [false, true, false, true].enumerated() {
            try TestData.random(count: 1 << 20, seed: UInt64(20 + index)).withUnsafeBytes {
                try FileSystem.writeAtomically(source + "/changed", bytes: $0)
            }
            let store = RendezvousStore(local, latency: .milliseconds(40))
            let name = "run\(index)"
            let repository = try await Repository.open(
                store, passwords: Self.password, lockingAhead: ahead ? "snapshot \(name)" : nil)
            _ = try await TreeBackup(repository: repository).run(source: source, name: name)
            // Counted from the end of the key object's read: what comes after the derivation (on the blocking pool,
            // which the other suites keep busy) does not depend on how long it took.
            let log = store.log
            let keyRead = try #require(log.first { $0.operation == .get && $0.key.hasPrefix(StoreKey.prefix) })
            counts[ahead, default: []].append(
                try #require(
                    RendezvousStore.serialRoundTrips(log.filter { $0.started > keyRead.ended! }) {
                        $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix)
                    }, "\(log)"))
        }
        // Without: lock ∥ lookup → locks ∥ records → index → index objects → parent ∥ manifest → first pack: 6.
        // With (the lock written beside the key's read): locks ∥ lookup → index ∥ records → index objects → parent ∥
        // manifest → pack: 5; or 4 when the derivation took longer than the lock (then only the lookup and the
        // index objects are left).
        let without = try #require(counts[false]?.min())
        let with = try #require(counts[true]?.min())
        #expect(with < without, "serial round trips before the first upload, without and with: \(counts)")
    }

    @Test("a wrong password: the lock taken meanwhile is removed before the error is reported")
    func wrongPasswordLeavesNoLock() async throws {
        let temp = try TemporaryDirectory("lock-ahead-password")
        defer { temp.remove() }
        let (_, local) = try await Self.prepared(temp)
        let store = RendezvousStore(local, rules: [Self.keyWaitsForTheLock])
        await #expect {
            _ = try await Repository.open(store, passwords: FixedPassword("wrong"), lockingAhead: "restore first")
        } throws: { error in
            if case ChunkStoreError.wrongPassword = error { return true }
            return false
        }
        #expect(store.outcomes == [Self.keyWaitsForTheLock.name: true], "the lock was not written: \(store.log)")
        #expect(try await Self.locks(local).isEmpty, "a lock was left behind")
        #expect(store.log.contains { $0.operation == .delete && $0.key.hasPrefix("locks/") })
    }

    @Test("a missing store and a store of format 1: nothing is written, no lock is taken")
    func nothingWrittenWithoutAStoreOfThisFormat() async throws {
        let temp = try TemporaryDirectory("lock-ahead-missing")
        defer { temp.remove() }
        let empty = RendezvousStore(try LocalDirectoryStore(root: temp.sub("empty"), create: true))
        await #expect {
            _ = try await Repository.open(empty, passwords: Self.password, lockingAhead: "restore x")
        } throws: { error in
            if case ChunkStoreError.repositoryNotFound = error { return true }
            return false
        }
        #expect(!empty.log.contains { $0.operation == .put || $0.operation == .delete }, "\(empty.log)")
        #expect(try await empty.base.listAll(prefix: "").isEmpty)

        let legacy = RendezvousStore(try await MigrationTests.legacyStore(temp, encrypted: false))
        await #expect {
            _ = try await Repository.open(legacy, lockingAhead: "restore old")
        } throws: { error in
            if case ChunkStoreError.unsupportedRepository = error { return true }
            return false
        }
        #expect(!legacy.log.contains { $0.operation == .put || $0.operation == .delete }, "\(legacy.log)")
        #expect(try await legacy.base.listAll(prefix: "locks/").isEmpty)
    }

    @Test("an opening cancelled while its lock is taken leaves no lock")
    func cancelledOpeningLeavesNoLock() async throws {
        let temp = try TemporaryDirectory("lock-ahead-cancel")
        defer { temp.remove() }
        let (_, local) = try await Self.prepared(temp)
        let rule = RendezvousStore.Rule(
            "the key waits", hold: { $0 == .get && $1.hasPrefix(StoreKey.prefix) }, until: { _ in false })
        let store = RendezvousStore(local, rules: [rule], patience: .seconds(1))
        let opening = Task {
            try await Repository.open(store, passwords: Self.password, lockingAhead: "restore first")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !store.log.contains(where: { $0.operation == .put && $0.key.hasPrefix("locks/") }) {
            try #require(ContinuousClock.now < deadline, "no lock was written while the key was read: \(store.log)")
            try await Task.sleep(for: .milliseconds(5))
        }
        opening.cancel()
        await #expect(throws: CancellationError.self) { _ = try await opening.value }
        #expect(try await Self.locks(local).isEmpty, "a lock was left behind")
    }

    @Test(
        "a lock taken ahead holds off garbage collection, gives way to this process's exclusive lock, and goes when nothing takes it up"
    )
    func untakenLockGoes() async throws {
        let temp = try TemporaryDirectory("lock-ahead-expiry")
        defer { temp.remove() }
        // Refreshed every 5 s: a lock taken ahead and not taken up within that is withdrawn (a shorter interval
        // let it go before the checks below on a loaded machine).
        let (_, local) = try await Self.prepared(temp, lockStaleSeconds: 30)
        let other = try await Repository.open(local, passwords: Self.password)

        let first = try await Repository.open(local, passwords: Self.password, lockingAhead: "restore first")
        try await Self.waitForALock(local)
        await #expect(throws: LockError.self) {
            _ = try await StoreLock.acquire(.exclusive, repository: other, operation: "gc", wait: .milliseconds(300))
        }
        // This process's own exclusive lock withdraws the shared one instead of waiting for it.
        let held = try await StoreLock.withLock(
            .exclusive, repository: first, operation: "gc", wait: .milliseconds(300)
        ) { try await Self.locks(local).count }
        #expect(held == 1)
        #expect(try await Self.locks(local).isEmpty)

        _ = try await Repository.open(local, passwords: Self.password, lockingAhead: "restore first")
        try await Self.waitForALock(local)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !Self.locks(local).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await Self.locks(local).isEmpty, "a lock nothing took up is still there after 30 s")
        let gc = try await StoreLock.acquire(.exclusive, repository: other, operation: "gc", wait: .milliseconds(300))
        await gc.release()
    }
}
