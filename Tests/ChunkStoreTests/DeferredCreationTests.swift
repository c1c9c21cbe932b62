import ChunkStore
import Synchronization
import SystemIO
import TestSupport
import Testing

/// `Repository.openOrCreate(deferringCreation:)`: a new store is written (key object, config, config read back) while
/// the first backup reads its files; its lock waits for the store to exist, and a store another process created at
/// the same moment is never written with this process's key.
@Suite("Creating a store while the first backup reads")
struct DeferredCreationTests {
    static let password = FixedPassword("deferred")

    static func deferred(_ store: RendezvousStore) async throws -> Repository {
        try await Repository.openOrCreate(
            store, config: RepositoryConfig(encryption: .aes256gcm), passwords: password,
            keyParameters: EncryptionTests.cheap, deferringCreation: true)
    }

    @Test("the files are read while the new store's config is written; the lock comes after the store exists")
    func readsWhileTheStoreIsWritten() async throws {
        let temp = try TemporaryDirectory("deferred-creation")
        defer { temp.remove() }
        try await TreeFixtures.sampleTree(at: temp.sub("source"))
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let progress = TreeProgress()
        let store = RendezvousStore(
            local,
            rules: [
                RendezvousStore.Rule(
                    "a megabyte is read while the config is written",
                    hold: { $0 == .put && $1 == RepositoryConfig.key },
                    until: { _ in progress.bytesRead >= 1 << 20 })
            ])
        let repository = try await Self.deferred(store)
        let snapshot = try await TreeBackup(repository: repository, progress: progress).run(
            source: temp.sub("source"), name: "first")
        #expect(store.outcomes == ["a megabyte is read while the config is written": true])
        let log = store.log
        let readBack = try #require(log.last { $0.operation == .get && $0.key == RepositoryConfig.key })
        let lock = try #require(log.first { $0.operation == .put && $0.key.hasPrefix("locks/") })
        #expect(readBack.ended! < lock.started, "\(log)")
        // The store opens as any other and restores the snapshot.
        let reopened = try await Repository.open(local, passwords: Self.password)
        _ = try await TreeRestore(repository: reopened).run(snapshot: snapshot.name, into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(temp.sub("source"), temp.sub("restored")).isEmpty)
    }

    @Test("a store another process created at the same moment fails the lock, and nothing is written with this key")
    func createdConcurrently() async throws {
        let temp = try TemporaryDirectory("deferred-creation-race")
        defer { temp.remove() }
        try await TreeFixtures.sampleTree(at: temp.sub("source"))
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let configReads = Atomic(0)
        let otherWrote = Atomic(false)
        let store = RendezvousStore(
            local,
            rules: [
                RendezvousStore.Rule(
                    "the config is read back after another process wrote its own",
                    hold: { operation, key in
                        operation == .get && key == RepositoryConfig.key
                            && configReads.add(1, ordering: .relaxed).newValue == 2
                    },
                    until: { _ in otherWrote.load(ordering: .acquiring) })
            ])
        let repository = try await Self.deferred(store)
        let backup = Task {
            try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "first")
        }
        while !store.log.contains(where: { $0.operation == .put && $0.key == RepositoryConfig.key && $0.ended != nil })
        {
            try await Task.sleep(for: .milliseconds(5))
        }
        let other = RepositoryConfig(encryption: .aes256gcm)
        try await local.put(RepositoryConfig.key, try StoreJSON.encode(other))
        otherWrote.store(true, ordering: .releasing)
        await #expect {
            _ = try await backup.value
        } throws: { error in
            if case ChunkStoreError.storeCreatedConcurrently = error { return true }
            return false
        }
        #expect(store.outcomes.values.allSatisfy { $0 })
        for prefix in [PackLayout.prefix, IndexFile.prefix, "snapshots/", "locks/", "refs/"] {
            #expect(try await local.listAll(prefix: prefix).isEmpty, "\(prefix)")
        }
        #expect(try await Repository.readConfig(local).id == other.id)
    }
}
