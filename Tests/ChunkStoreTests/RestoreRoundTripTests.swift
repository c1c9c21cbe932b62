import ChunkStore
import Synchronization
import SystemIO
import TestSupport
import Testing

/// A restore's fixed cost on an object store is the chain of requests that wait for one another before the first
/// data read: the lock's write and listing, the index's listing and objects, the snapshot's record, the manifest.
/// These tests hold one request until another has started (`RendezvousStore`), so a pair sent one after the other
/// times out; the order that keeps a restore safe (data read only under the lock, the record checked under it) is
/// checked on the log.
@Suite("Round trips of a restore")
struct RestoreRoundTripTests {
    static let record = Snapshot.key("first")

    static func isLocks(_ request: RendezvousStore.Request, _ operation: RendezvousStore.Operation) -> Bool {
        request.operation == operation && request.key.hasPrefix("locks/")
    }

    /// When the lock is won: the end of its listing of `locks/`.
    static func lockWon(_ log: [RendezvousStore.Request]) -> Int? {
        log.first { isLocks($0, .list) }?.ended
    }

    /// A store with snapshots `first` (of a sample tree) and `other` (of another), opened afresh through a
    /// `RendezvousStore` with `rules`.
    static func prepared(_ temp: TemporaryDirectory, rules: [RendezvousStore.Rule])
        async throws -> (local: LocalDirectoryStore, store: RendezvousStore, repository: Repository)
    {
        try await TreeFixtures.sampleTree(at: temp.sub("first"))
        try await TreeFixtures.sampleTree(at: temp.sub("other"), seed: 8)
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let writer = try await Repository.openOrCreate(local)
        _ = try await TreeBackup(repository: writer).run(source: temp.sub("first"), name: "first")
        _ = try await TreeBackup(repository: writer).run(source: temp.sub("other"), name: "other")
        let store = RendezvousStore(local, rules: rules)
        let limits = Repository.Limits(requestsInFlight: 32, bytesInFlight: 64 << 20, packSize: 1 << 20)
        return (local, store, try await Repository.open(store, limits: limits))
    }

    @Test(
        "the record, the index and the manifest are read while the lock is taken, the record again beside the refresh")
    func readAheadOverlapsTheLock() async throws {
        let temp = try TemporaryDirectory("restore-roundtrips")
        defer { temp.remove() }
        let recordReads = Atomic(0)
        let indexListings = Atomic(0)
        let (_, store, repository) = try await Self.prepared(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "the record is read while the lock is written", hold: { $0 == .put && $1.hasPrefix("locks/") },
                    until: { log in log.contains { $0.operation == .get && $0.key == Self.record } }),
                RendezvousStore.Rule(
                    "the index is read while the locks are listed", hold: { $0 == .list && $1 == "locks/" },
                    until: { log in log.contains { $0.operation == .get && $0.key.hasPrefix(IndexFile.prefix) } }),
                RendezvousStore.Rule(
                    "the record is read again beside the index's refresh",
                    hold: { operation, key in
                        operation == .get && key == Self.record
                            && recordReads.wrappingAdd(1, ordering: .relaxed).newValue == 2
                    },
                    until: { log in
                        guard let won = Self.lockWon(log) else { return false }
                        return log.contains { $0.operation == .list && $0.key == IndexFile.prefix && $0.started > won }
                    }),
                RendezvousStore.Rule(
                    "the manifest is read before the index is refreshed under the lock",
                    hold: { operation, key in
                        operation == .list && key == IndexFile.prefix
                            && indexListings.wrappingAdd(1, ordering: .relaxed).newValue == 2
                    },
                    until: { log in log.contains { $0.operation == .get && $0.key.hasPrefix(PackLayout.prefix) } }),
            ])
        _ = try await TreeRestore(repository: repository).run(snapshot: "first", into: temp.sub("target"))
        #expect(try await TreeFixtures.differences(temp.sub("first"), temp.sub("target")).isEmpty)
        #expect(store.outcomes.count == 4 && store.outcomes.values.allSatisfy { $0 }, "\(store.outcomes)")

        let log = store.log
        let won = try #require(Self.lockWon(log))
        // Safe order: the record is read again after the lock is won, and the files' data only after that and
        // after the index's refresh under the lock; what was read ahead is the manifest (its own pack).
        let records = log.filter { $0.operation == .get && $0.key == Self.record }
        #expect(records.count == 2 && records[1].started > won, "\(records)")
        let refresh = try #require(log.last { $0.operation == .list && $0.key == IndexFile.prefix })
        #expect(refresh.started > won)
        let packReads = log.filter { $0.operation == .get && $0.key.hasPrefix(PackLayout.prefix) }
        let manifest = try #require(packReads.first)
        let data = packReads.filter { $0.key != manifest.key }
        #expect(packReads.filter { $0.key == manifest.key }.count == 1 && manifest.started < refresh.started)
        #expect(!data.isEmpty && data.allSatisfy { $0.started > refresh.ended! && $0.started > records[1].ended! })
        // The index objects read ahead are not read again by the refresh.
        let indexReads = log.filter { $0.operation == .get && $0.key.hasPrefix(IndexFile.prefix) }
        #expect(!indexReads.isEmpty && Set(indexReads.map(\.key)).count == indexReads.count, "\(indexReads)")
    }

    /// Holds the lock's write until the record was read ahead, then lets `change` alter the store.
    static func changedBeforeTheLock(
        _ temp: TemporaryDirectory, _ change: @escaping @Sendable (LocalDirectoryStore) async throws -> Void
    ) async throws -> Result<TreeRestore.Summary, any Error> {
        let changed = Atomic(false)
        let (local, store, repository) = try await prepared(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "the store changes before the lock is written", hold: { $0 == .put && $1.hasPrefix("locks/") },
                    until: { _ in changed.load(ordering: .acquiring) })
            ])
        async let restore = TreeRestore(repository: repository).run(snapshot: "first", into: temp.sub("target"))
        // Once the manifest was read ahead (its pack read ended), the store changes.
        while !store.log.contains(where: { $0.key.hasPrefix(PackLayout.prefix) && $0.ended != nil }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await change(local)
        changed.store(true, ordering: .releasing)
        let result: Result<TreeRestore.Summary, any Error>
        do { result = .success(try await restore) } catch { result = .failure(error) }
        #expect(store.outcomes.values.allSatisfy { $0 })
        return result
    }

    @Test("a snapshot forgotten between the read-ahead and the lock is not restored")
    func forgottenBeforeTheLock() async throws {
        let temp = try TemporaryDirectory("restore-roundtrips-forgotten")
        defer { temp.remove() }
        let result = try await Self.changedBeforeTheLock(temp) { try await $0.delete(Self.record) }
        guard case .failure(ChunkStoreError.snapshotNotFound(let name, _)) = result else {
            Issue.record("the record read before the lock was trusted: \(result)")
            return
        }
        #expect(name == "first")
    }

    @Test("a name reused between the read-ahead and the lock restores the snapshot named so under the lock")
    func reusedBeforeTheLock() async throws {
        let temp = try TemporaryDirectory("restore-roundtrips-reused")
        defer { temp.remove() }
        let result = try await Self.changedBeforeTheLock(temp) { local in
            try await local.put(Self.record, try await local.get(Snapshot.key("other")))
        }
        _ = try result.get()
        #expect(try await TreeFixtures.differences(temp.sub("other"), temp.sub("target")).isEmpty)
    }
}
