import ChunkStore
import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

/// Stores written before packs (format 1 and 2: one object per chunk) are refused with a message saying how to
/// convert them, and `LegacyMigration` converts them without losing a byte, even when interrupted.
@Suite("store migration to packs")
struct MigrationTests {
    /// A format-1 (plain) or format-2 (encrypted) store with one snapshot: made with today's code, then turned into
    /// the older layout (each chunk a `chunks/…` object, no packs or index, the older version in its config).
    static func legacyStore(_ temp: TemporaryDirectory, encrypted: Bool) async throws -> any ObjectStore {
        try FileSystem.makeDirectory(temp.sub("source"))
        for index in 0..<5 {
            try TestData.random(count: 50_000 + index, seed: UInt64(index)).withUnsafeBytes {
                try FileSystem.writeAtomically(temp.sub("source/f\(index)"), bytes: $0)
            }
        }
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let passwords = FixedPassword("pw")
        let repository = try await Repository.openOrCreate(
            base, config: RepositoryConfig(encryption: encrypted ? .aes256gcm : .none), passwords: passwords,
            keyParameters: EncryptionTests.cheap)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "old")
        for id in await repository.indexedChunks().keys {
            // What a format-1/2 writer stored: the codec bytes, sealed whole under the object's key if encrypted.
            let plain = try await repository.getChunk(id)
            try await repository.store.put(Repository.legacyChunkKey(id), ChunkCodec.encode(plain))
        }
        for prefix in [PackLayout.prefix, IndexFile.prefix] {
            for object in try await base.listAll(prefix: prefix) { try await base.delete(object.key) }
        }
        var config = repository.config
        config.version = encrypted ? 2 : 1
        try await base.put(RepositoryConfig.key, try StoreJSON.encode(config))
        return base
    }

    @Test(
        "an old store is refused with the command that converts it; after migration it restores and verifies",
        arguments: [false, true])
    func refusedThenMigrated(encrypted: Bool) async throws {
        let temp = try TemporaryDirectory("migrate")
        defer { temp.remove() }
        let store = try await Self.legacyStore(temp, encrypted: encrypted)
        let passwords = FixedPassword("pw")
        let refused = await #expect(throws: ChunkStoreError.self) {
            _ = try await Repository.open(store, passwords: passwords)
        }
        #expect(refused?.description.contains("velero-cas store migrate") == true, "\(String(describing: refused))")

        let old = try await Repository.open(store, passwords: passwords, legacyLayout: true)
        let result = try await LegacyMigration.migrate(old)
        #expect(result.chunks > 5 && result.damaged.isEmpty && result.packs >= 1, "\(result)")
        #expect(try await store.listAll(prefix: "chunks/").isEmpty, "no loose chunk is left")
        let migrated = try await Repository.open(store, passwords: passwords)
        #expect(migrated.config.version == RepositoryConfig.currentVersion)
        _ = try await TreeRestore(repository: migrated).run(snapshot: "old", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("source"), temp.sub("restored")) == [])
        // Migrating again does nothing.
        #expect(try await LegacyMigration.migrate(migrated) == LegacyMigration.Result())
    }

    @Test("a migration crashed after every write, with and without a power cut, finishes on the next run")
    func crashAtEveryWrite() async throws {
        var crashAfter = 1
        var power = false
        while true {
            let temp = try TemporaryDirectory("migrate-crash")
            defer { temp.remove() }
            let base = try await Self.legacyStore(temp, encrypted: false)
            let faulty = FaultInjectingStore(base: base, crashAfter: crashAfter)
            do {
                _ = try await LegacyMigration.migrate(try await Repository.open(faulty, legacyLayout: true))
            } catch {
                #expect(faulty.crashed, "only the simulated crash stops it: \(error)")
            }
            let crashed = faulty.crashed
            if crashed {
                if power { _ = try await faulty.powerLoss(seed: UInt64(crashAfter)) }
                for lock in try await base.listAll(prefix: "locks/") { try await base.delete(lock.key) }
                _ = try await LegacyMigration.migrate(try await Repository.open(base, legacyLayout: true))
            }
            let context = "crash after write \(crashAfter)\(power ? " + power cut" : "")"
            let repository = try await Repository.open(base)
            _ = try await TreeRestore(repository: repository).run(snapshot: "old", into: temp.sub("restored"))
            #expect(try SampleData.compareTrees(temp.sub("source"), temp.sub("restored")) == [], "\(context)")
            #expect(try await base.listAll(prefix: "chunks/").isEmpty, "\(context)")
            if !crashed {
                #expect(crashAfter > 3, "the migration made several writes")
                if power { break }
                (crashAfter, power) = (1, true)
            } else {
                crashAfter += 1
            }
        }
    }
}
