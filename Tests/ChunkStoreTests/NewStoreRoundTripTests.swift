import ChunkStore
import SystemIO
import TestSupport
import Testing

/// The first backup into a store the same process has just made: its index is nearly always empty, so the first lock
/// lists `index/` beside `locks/` instead of after it, and uses that listing only when it is empty.
@Suite("Round trips of a first backup into a new store")
struct NewStoreRoundTripTests {
    static func isList(_ request: RendezvousStore.Request, _ prefix: String) -> Bool {
        request.operation == .list && request.key == prefix
    }

    /// A new encrypted store made through a `RendezvousStore` with `rules`, and a small tree to back up.
    static func created(
        _ temp: TemporaryDirectory, rules: [RendezvousStore.Rule], patience: Duration = .seconds(5)
    ) async throws -> (
        source: String, local: LocalDirectoryStore, store: RendezvousStore, repository: Repository
    ) {
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let store = RendezvousStore(local, rules: rules, patience: patience)
        let repository = try await Repository.openOrCreate(
            store, config: RepositoryConfig(encryption: .aes256gcm), passwords: FixedPassword("new store"),
            keyParameters: EncryptionTests.cheap)
        return (source, local, store, repository)
    }

    @Test("the first lock on a store just made lists the index while it lists the locks; later locks list it after")
    func indexListedBesideTheLocks() async throws {
        let temp = try TemporaryDirectory("roundtrips-new-store")
        defer { temp.remove() }
        let (source, _, store, repository) = try await Self.created(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "the index is listed while the locks are",
                    hold: { $0 == .list && $1 == "locks/" },
                    until: { log in log.contains { Self.isList($0, IndexFile.prefix) } })
            ])
        let first = try await TreeBackup(repository: repository).run(source: source, name: "first")
        #expect(store.outcomes == ["the index is listed while the locks are": true], "\(store.log)")
        let firstRun = store.log
        #expect(firstRun.count { Self.isList($0, IndexFile.prefix) } == 1, "\(firstRun)")

        // The second lock refreshes as any lock does: its listing of the index comes after that of the locks.
        try TestData.random(count: 1 << 20, seed: 5).withUnsafeBytes {
            try FileSystem.writeAtomically(source + "/added", bytes: $0)
        }
        let second = try await TreeBackup(repository: repository).run(source: source, name: "second")
        let secondRun = store.log.dropFirst(firstRun.count)
        let locks = try #require(secondRun.first { Self.isList($0, "locks/") })
        let index = secondRun.filter { Self.isList($0, IndexFile.prefix) }
        #expect(index.count == 1 && index[0].started > locks.ended!, "\(Array(secondRun))")
        #expect(second.summary.unchangedFiles == first.summary.files)

        // Both restore exactly from a fresh opening of the store.
        let reopened = try await Repository.open(store.base, passwords: FixedPassword("new store"))
        _ = try await TreeRestore(repository: reopened).run(snapshot: "second", into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(source, temp.sub("restored")).isEmpty)
    }

    @Test("an index listing beside the locks that is not empty is not used: the index is listed again under the lock")
    func nonEmptyListingIsNotUsed() async throws {
        let temp = try TemporaryDirectory("roundtrips-new-store-other")
        defer { temp.remove() }
        let (source, local, store, repository) = try await Self.created(temp, rules: [])
        // Another process backs the same tree up into the new store before this one takes its first lock.
        let other = try await Repository.open(local, passwords: FixedPassword("new store"))
        _ = try await TreeBackup(repository: other).run(source: source, name: "other")
        let snapshot = try await TreeBackup(repository: repository).run(source: source, name: "mine", parent: "other")
        let log = store.log
        let locks = try #require(log.first { Self.isList($0, "locks/") })
        let index = log.filter { Self.isList($0, IndexFile.prefix) }
        #expect(index.count == 2 && index.contains { $0.started > locks.ended! }, "\(log)")
        // The other's chunks were known from the listing under the lock: nothing new was stored.
        #expect(snapshot.summary.newChunks == 0 && snapshot.summary.unchangedFiles == snapshot.summary.files)
    }

    @Test(
        "the first backup into a new store reads its files while the lock is taken, and packs nothing before it is won")
    func readsWhileTheLockIsTaken() async throws {
        let temp = try TemporaryDirectory("roundtrips-new-store-reading")
        defer { temp.remove() }
        let progress = TreeProgress()
        let (source, _, store, repository) = try await Self.created(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "a megabyte is read while the lock is written",
                    hold: { $0 == .put && $1.hasPrefix("locks/") },
                    until: { _ in progress.bytesTotal > 0 && progress.bytesRead >= 1 << 20 })
            ],
            // The full suite beside it can slow reading a megabyte past 5 s; a held write goes on as soon as it is.
            patience: .seconds(60))
        let snapshot = try await TreeBackup(repository: repository, progress: progress).run(
            source: source, name: "first")
        #expect(store.outcomes == ["a megabyte is read while the lock is written": true])
        let log = store.log
        let won = try #require(log.first { Self.isList($0, "locks/") }?.ended)
        let packs = log.filter { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) }
        #expect(!packs.isEmpty && packs.allSatisfy { $0.started > won }, "\(log)")
        #expect(snapshot.parent == nil && snapshot.summary.files > 0)
        _ = try await TreeRestore(repository: repository).run(snapshot: "first", into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(source, temp.sub("restored")).isEmpty)
    }

    @Test("a first backup into a new store cancelled while its lock is taken stores nothing and leaves no lock")
    func cancelledBeforeTheLock() async throws {
        let temp = try TemporaryDirectory("roundtrips-new-store-cancel")
        defer { temp.remove() }
        let progress = TreeProgress()
        let (source, local, _, repository) = try await Self.created(
            temp,
            rules: [
                RendezvousStore.Rule(
                    "the lock waits", hold: { $0 == .put && $1.hasPrefix("locks/") }, until: { _ in false })
            ], patience: .seconds(1))
        let backup = Task {
            try await TreeBackup(repository: repository, progress: progress).run(source: source, name: "x")
        }
        while progress.bytesRead == 0 { try await Task.sleep(for: .milliseconds(5)) }
        backup.cancel()
        await #expect(throws: (any Error).self) { _ = try await backup.value }
        #expect(try await local.listAll(prefix: PackLayout.prefix).isEmpty)
        #expect(try await local.listAll(prefix: "locks/").isEmpty)
        #expect(try await local.listAll(prefix: "snapshots/").isEmpty)
    }
}
