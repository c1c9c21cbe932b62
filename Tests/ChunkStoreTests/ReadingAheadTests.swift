import ChunkStore
import Synchronization
import SystemIO
import TestSupport
import Testing

/// What a backup waits for does not stop its reading: a file that has been read gives its place among the files being
/// read to the next one while its chunks wait for a pack's upload, or for a new store's lock. Only the byte budget
/// bounds what waits.
@Suite("Reading goes on while chunks wait")
struct ReadingAheadTests {
    /// A switch a store rule reads from another task.
    final class Switch: Sendable {
        private let on = Atomic(false)
        var isOn: Bool { on.load(ordering: .acquiring) }
        func turnOn() { on.store(true, ordering: .releasing) }
    }

    /// `count` files of `size` random bytes under `directory`; returns their total size.
    static func files(_ directory: String, count: Int, size: Int) throws -> Int {
        try FileSystem.makeDirectories(directory)
        for index in 0..<count {
            try TestData.random(count: size, seed: UInt64(100 + index)).withUnsafeBytes {
                try FileSystem.writeAtomically(directory + "/f\(index)", bytes: $0)
            }
        }
        return count * size
    }

    /// Waits until `progress` has read `total` bytes or `limit` has passed; returns what it had read.
    static func bytesRead(_ progress: TreeProgress, reaching total: Int, within limit: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + limit
        while progress.bytesRead < total, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return progress.bytesRead
    }

    @Test("files whose packs are still uploading do not hold the places of the files being read")
    func readingPassesHeldUploads() async throws {
        let temp = try TemporaryDirectory("reading-ahead-uploads")
        defer { temp.remove() }
        let total = try Self.files(temp.sub("source"), count: 24, size: 48 << 10)
        // The store exists already (made here without the holding rules), so this is an ordinary backup, not a
        // first one into a new store.
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        _ = try await Repository.openOrCreate(local)
        // The first three pack uploads are held: with two files read at a time, the files that filled the first two
        // packs used to hold both places until their uploads ended, and nothing more was read.
        let released = Switch()
        let store = RendezvousStore(
            local,
            rules: (0..<3).map { index in
                RendezvousStore.Rule(
                    "pack upload \(index) held", hold: { $0 == .put && $1.hasPrefix(PackLayout.prefix) },
                    until: { _ in released.isOn })
            }, patience: .seconds(120))
        let limits = Repository.Limits(
            requestsInFlight: 64, bytesInFlight: 8 << 20, packSize: 64 << 10, packUploads: 2)
        let existing = try await Repository.open(store, limits: limits)

        let progress = TreeProgress()
        let backup = Task {
            try await TreeBackup(repository: existing, fileConcurrency: 2, progress: progress).run(
                source: temp.sub("source"), name: "measured")
        }
        let read = try await Self.bytesRead(progress, reaching: total, within: .seconds(60))
        released.turnOn()
        let snapshot = try await backup.value
        #expect(read == total, "read \(read) of \(total) bytes while the first uploads were held")
        #expect(store.log.contains { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) })
        _ = try await TreeRestore(repository: existing).run(snapshot: snapshot.name, into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(temp.sub("source"), temp.sub("restored")).isEmpty)
    }

    @Test("a first backup into a new store reads past its request slots while its lock is taken")
    func readingPassesTheLock() async throws {
        let temp = try TemporaryDirectory("reading-ahead-lock")
        defer { temp.remove() }
        let total = try Self.files(temp.sub("source"), count: 40, size: 16 << 10)
        let won = Switch()
        // The lock's listing of `locks/` is held, so the lock is not won and every chunk waits at the gate.
        let store = RendezvousStore(
            try LocalDirectoryStore(root: temp.sub("store"), create: true),
            rules: [
                RendezvousStore.Rule(
                    "the lock's listing held", hold: { $0 == .list && $1 == "locks/" }, until: { _ in won.isOn })
            ], patience: .seconds(120))
        let limits = Repository.Limits(requestsInFlight: 4, bytesInFlight: 8 << 20, packSize: 64 << 10)
        let repository = try await Repository.openOrCreate(
            store, config: RepositoryConfig(encryption: .aes256gcm), passwords: FixedPassword("reading ahead"),
            keyParameters: EncryptionTests.cheap, limits: limits)
        let progress = TreeProgress()
        let backup = Task {
            try await TreeBackup(repository: repository, fileConcurrency: 8, progress: progress).run(
                source: temp.sub("source"), name: "first")
        }
        // Forty files of one chunk each, four request slots and eight files at a time: waiting chunks used to keep
        // their slots (four chunks read) and their files' places (eight).
        let read = try await Self.bytesRead(progress, reaching: total, within: .seconds(60))
        #expect(
            !store.log.contains { $0.operation == .put && $0.key.hasPrefix(PackLayout.prefix) },
            "nothing is uploaded before the lock is won")
        won.turnOn()
        let snapshot = try await backup.value
        #expect(read == total, "read \(read) of \(total) bytes before the lock was won")
        let reopened = try await Repository.open(store.base, passwords: FixedPassword("reading ahead"))
        _ = try await TreeRestore(repository: reopened).run(snapshot: snapshot.name, into: temp.sub("restored"))
        #expect(try await TreeFixtures.differences(temp.sub("source"), temp.sub("restored")).isEmpty)
    }
}
