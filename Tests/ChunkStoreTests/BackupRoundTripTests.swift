import ChunkStore
import Synchronization
import SystemIO
import TestSupport
import Testing

/// On an object store every request is a round trip (50 ms away, say): a backup's fixed cost is the chain of requests
/// that wait for one another. These tests hold one request until another has started, so a pair that is sent one
/// after the other times out, while the protocol's order (what must stay serial) is checked on the log.
@Suite("Round trips of a backup")
struct BackupRoundTripTests {
    static func isLock(_ operation: RendezvousStore.Operation, _ key: String, _ wanted: RendezvousStore.Operation)
        -> Bool
    { operation == wanted && key.hasPrefix("locks/") }

    /// A rule that holds the write of the backup's lock until `until` holds.
    static func holdingTheLock(_ name: String, until: @escaping @Sendable ([RendezvousStore.Request]) -> Bool)
        -> RendezvousStore.Rule
    { RendezvousStore.Rule(name, hold: { isLock($0, $1, .put) }, until: until) }

    /// A store with one snapshot `first` of `source` made beforehand, opened afresh through a `RendezvousStore`
    /// with `rules`.
    static func prepared(_ temp: TemporaryDirectory, packUploads: Int = 4, rules: [RendezvousStore.Rule])
        async throws -> (source: String, local: LocalDirectoryStore, store: RendezvousStore, repository: Repository)
    {
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let first = try await Repository.openOrCreate(local)
        _ = try await TreeBackup(repository: first).run(source: source, name: "first")
        let store = RendezvousStore(local, rules: rules)
        let limits = Repository.Limits(
            requestsInFlight: 32, bytesInFlight: 64 << 20, packSize: 1 << 20, packUploads: packUploads)
        return (source, local, store, try await Repository.open(store, limits: limits))
    }

    @Test("the index is listed once per backup, and the snapshot records are read while the lock is taken")
    func lookupOverlapsTheLock() async throws {
        let temp = try TemporaryDirectory("roundtrips-lookup")
        defer { temp.remove() }
        let (source, _, store, repository) = try await Self.prepared(
            temp,
            rules: [
                Self.holdingTheLock("the parent is looked up while the lock is written") { log in
                    log.contains { $0.operation == .list && $0.key == "snapshots/" }
                }
            ])
        let snapshot = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(snapshot.parent == "first")
        #expect(snapshot.summary.unchangedFiles == snapshot.summary.files)
        #expect(store.outcomes == ["the parent is looked up while the lock is written": true], "\(store.log)")
        let indexListings = store.log.filter { $0.operation == .list && $0.key == IndexFile.prefix }
        #expect(indexListings.count == 1, "opening the store and taking the lock each listed index/: \(store.log)")
        // The listing that counts comes after the lock is held: after the lock's own listing of locks/ ended.
        let lockListing = try #require(store.log.first { $0.operation == .list && $0.key == "locks/" })
        #expect(try #require(indexListings.first).started > lockListing.ended!)
    }

    @Test("a parent that goes between the lookup and the lock is looked up again under the lock")
    func parentGoneBeforeTheLock() async throws {
        let temp = try TemporaryDirectory("roundtrips-parent-gone")
        defer { temp.remove() }
        let gone = Atomic(false)
        let (source, local, store, repository) = try await Self.prepared(
            temp,
            rules: [
                Self.holdingTheLock("the parent is removed before the lock is written") { _ in
                    gone.load(ordering: .acquiring)
                }
            ])
        async let backup = TreeBackup(repository: repository).run(source: source, name: "second")
        // Once the lookup has read the parent's record, the record goes (as `store forget` removes it).
        while !store.log.contains(where: { $0.key == Snapshot.key("first") && $0.ended != nil }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await local.delete(Snapshot.key("first"))
        gone.store(true, ordering: .releasing)
        let snapshot = try await backup
        #expect(snapshot.parent == nil, "the parent found before the lock was used although it was gone")
        #expect(snapshot.summary.unchangedFiles == 0)
        #expect(store.outcomes.values.allSatisfy { $0 })
    }

    @Test("the commit overlaps what may overlap and keeps the order of what may not")
    func commitOrder() async throws {
        let temp = try TemporaryDirectory("roundtrips-commit")
        defer { temp.remove() }
        let (source, _, store, repository) = try await Self.prepared(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "the list is written and the lock checked while the index is",
                    hold: { $0 == .put && $1.hasPrefix(IndexFile.prefix) },
                    until: { log in
                        let packsEnded =
                            log.filter { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) }
                            .compactMap(\.ended).max() ?? 0
                        return log.contains { $0.operation == .put && $0.key.hasPrefix("refs/lists/") }
                            && log.contains { Self.isLock($0.operation, $0.key, .size) && $0.started > packsEnded }
                    })
            ])
        // Files that changed since `first`, so that new packs are written.
        try TestData.random(count: 3 << 20, seed: 9).withUnsafeBytes {
            try FileSystem.writeAtomically(source + "/changed", bytes: $0)
        }
        _ = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(store.outcomes == ["the list is written and the lock checked while the index is": true], "\(store.log)")

        let log = store.log
        func one(_ operation: RendezvousStore.Operation, _ prefix: String) throws -> RendezvousStore.Request {
            let found = log.filter { $0.operation == operation && $0.key.hasPrefix(prefix) }
            try #require(found.count == 1, "\(operation) \(prefix): \(found)")
            return found[0]
        }
        let marker = try one(.put, "refs/pending/")
        let list = try one(.put, "refs/lists/")
        let record = try one(.put, Snapshot.key("second"))
        let release = try one(.delete, "locks/")
        let packs = log.filter { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) }
        let index = log.filter { $0.operation == .put && $0.key.hasPrefix(IndexFile.prefix) }
        let checks = log.filter { Self.isLock($0.operation, $0.key, .size) }
        try #require(!packs.isEmpty && !index.isEmpty)
        // What stays serial: packs before the index that names them, the marker before the list, data, index and
        // list before the record, a check of the lock after the data is uploaded and before the record, and the
        // lock released only after the record.
        let packsEnded = packs.map { $0.ended! }.max()!
        #expect(packs.allSatisfy { $0.ended! < index.first!.started })
        #expect(marker.ended! < list.started)
        #expect(index.allSatisfy { $0.ended! < record.started } && list.ended! < record.started)
        #expect(checks.contains { $0.started > packsEnded && $0.ended! < record.started })
        #expect(record.ended! < release.started)
    }

    @Test(
        "the manifest, the last packs and the pending marker are stored while the pack a file filled is uploaded, even with one upload slot"
    )
    func lastPacksOverlapTheFilledOne() async throws {
        let temp = try TemporaryDirectory("roundtrips-last-packs")
        defer { temp.remove() }
        // One upload slot, which the filled pack holds: the packs the commit's flush closes do not wait for it.
        let (source, _, store, repository) = try await Self.prepared(
            temp, packUploads: 1,
            rules: [
                RendezvousStore.Rule(
                    "another pack and the pending marker are written while the first pack is uploaded",
                    hold: { $0 == .put && $1.hasPrefix(PackLayout.prefix) },
                    // The held request is logged once it goes on: any pack upload in the log is another one.
                    until: { log in
                        log.contains { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) }
                            && log.contains { $0.operation == .put && $0.key.hasPrefix("refs/pending/") }
                    })
            ])
        // 1.5 MiB of new data with 1 MiB packs: one pack fills while the file is read (its upload is held), the rest
        // and the manifest's chunks go in the packs closed for the commit.
        try TestData.random(count: 3 << 19, seed: 11).withUnsafeBytes {
            try FileSystem.writeAtomically(source + "/changed", bytes: $0)
        }
        let snapshot = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(
            store.outcomes == [
                "another pack and the pending marker are written while the first pack is uploaded": true
            ], "\(store.log)")
        let packs = store.log.filter { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) }
        let index = store.log.filter { $0.operation == .put && $0.key.hasPrefix(IndexFile.prefix) }
        #expect(packs.count >= 2 && !index.isEmpty && packs.allSatisfy { $0.ended! < index.first!.started })
        // Everything the snapshot names reads back.
        let restored = temp.sub("restored")
        _ = try await TreeRestore(repository: repository).run(snapshot: snapshot.name, into: restored)
        #expect(try await TreeFixtures.differences(source, restored).isEmpty)
    }
}
