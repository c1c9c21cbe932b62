import BackupModel
import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore
@testable import Collectors
@testable import GarbageCollector

@Suite("Expiry and garbage collection")
struct ExpiryTests {
    static func repository(_ temp: TemporaryDirectory) async throws -> Repository {
        try await Repository.openOrCreate(try LocalDirectoryStore(root: temp.sub("store"), create: true))
    }

    static func chunkIDs(_ repository: Repository) async throws -> Set<String> {
        Set(await repository.indexedChunks().keys.map(\.hex))
    }

    /// A committed backup record whose only data is a volume snapshot of `source` (no cluster needed).
    static func backup(_ name: String, source: String, expires: Date?, repository: Repository) async throws {
        let commit = CommitID.make()
        let snapshot = try await TreeBackup(repository: repository).run(
            source: source, name: "\(name).pv.data", backupCommit: commit)
        var record = BackupRecord(
            name: name, filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "test", cluster: "none")
        record.phase = .completed
        record.commit = commit
        record.expiration = expires
        record.volumes = [
            VolumeRecord(
                persistentVolume: "data", claim: nil, path: source, snapshot: snapshot.name,
                files: snapshot.summary.files,
                logicalBytes: snapshot.summary.logicalBytes, newStoredBytes: 0, seconds: 0, skipped: nil)
        ]
        try await repository.commitRecord(record, key: BackupRecord.key(name))
    }

    /// The chunks a committed snapshot references, read from its manifest.
    static func referenced(_ snapshot: Snapshot, repository: Repository) async throws -> Set<String> {
        let entry = CommittedOwners.Entry(
            owner: snapshot.owner!, manifest: snapshot.manifest, recordKey: Snapshot.key(snapshot.name))
        return Set(try await CommittedOwners.referencedChunks(entry, repository: repository).map(\.id.hex))
    }

    @Test("expiring a backup deletes exactly the chunks no other backup references; the rest still restore")
    func expiry() async throws {
        let temp = try TemporaryDirectory("gc")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try SampleData(seed: 41).generate(into: temp.sub("data"), bytes: 2 << 20)
        try await Self.backup(
            "old", source: temp.sub("data"), expires: Date(timeIntervalSinceNow: -60), repository: repository)
        let afterOld = try await Self.chunkIDs(repository)
        try SampleData(seed: 41).mutate(directory: temp.sub("data"), fraction: 0.3)
        try await Self.backup("new", source: temp.sub("data"), expires: nil, repository: repository)
        let afterNew = try await Self.chunkIDs(repository)

        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.expired.contains("backup old") && result.expired.contains("snapshot old.pv.data"))
        #expect(result.deletedChunks > 0)
        let remaining = try await Self.chunkIDs(repository)
        let newSnapshot = try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "new.pv.data"))
        let needed = try await Self.referenced(newSnapshot, repository: repository)
        #expect(needed.isSubset(of: remaining), "a chunk the remaining backup needs was deleted")
        #expect(remaining == needed, "every chunk only the expired backup used is gone")
        #expect(afterNew.subtracting(afterOld).isSubset(of: remaining))
        #expect(try await repository.record(BackupRecord.self, key: BackupRecord.key("old")) == nil)

        _ = try await TreeRestore(repository: repository).run(snapshot: "new.pv.data", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("data"), temp.sub("restored")) == [])
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean && report.orphanedChunks == 0)

        // Running again changes nothing.
        let again = try await GarbageCollector(repository: repository).run()
        #expect(again.expired.isEmpty && again.deletedChunks == 0)
        #expect(try await Self.chunkIDs(repository) == remaining)
    }

    @Test("a damaged backup record is left alone and named; the other backups still expire by their TTL")
    func damagedRecordDoesNotStopExpiry() async throws {
        let temp = try TemporaryDirectory("gc-damaged")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try SampleData(seed: 43).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await Self.backup(
            "old", source: temp.sub("data"), expires: Date(timeIntervalSinceNow: 600), repository: repository)
        try SampleData(seed: 43).mutate(directory: temp.sub("data"), fraction: 0.3)
        try await Self.backup("new", source: temp.sub("data"), expires: nil, repository: repository)
        // The reference counts first, while every record reads (rebuilding them must not skip one: below).
        #expect(try await GarbageCollector(repository: repository).run().expired.isEmpty)
        try await repository.store.put("backups/broken.json", Array("{ not a record".utf8))
        await #expect(throws: ChunkStoreError.self) { try await BackupRecord.list(repository) }

        let result = try await GarbageCollector(repository: repository).run(now: Date(timeIntervalSinceNow: 1200))
        #expect(result.expired.contains("backup old"), "\(result.expired)")
        #expect(try await repository.record(BackupRecord.self, key: BackupRecord.key("old")) == nil)
        #expect(try await repository.store.get("backups/broken.json") == Array("{ not a record".utf8))
        _ = try await TreeRestore(repository: repository).run(snapshot: "new.pv.data", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("data"), temp.sub("restored")) == [])
        // Rebuilding the counts needs every record: a damaged one stops it rather than let its chunks go uncounted.
        await #expect(throws: ChunkStoreError.self) {
            try await GarbageCollector(repository: repository).run(rebuildCounts: true)
        }
    }

    @Test("an interrupted expiry (its journal left behind) is finished by the next run, without double decrements")
    func interruptedExpiry() async throws {
        let temp = try TemporaryDirectory("gc")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try SampleData(seed: 42).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await Self.backup("a", source: temp.sub("data"), expires: nil, repository: repository)
        try await Self.backup("b", source: temp.sub("data"), expires: nil, repository: repository)
        _ = try await GarbageCollector(repository: repository).run()  // counts both
        // Simulate a crash after decrementing "a" but before deleting its records: apply the decrement by hand.
        let owner = try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "a.pv.data")?.owner)
        let ids = try #require(try await ReferenceList.read(owner, repository: repository))
        _ = try await ReferenceCounts(repository: repository).apply(
            owner.decrementOperation, ids: ids, delta: -1, active: [owner.decrementOperation])
        try await repository.store.put(owner.journalKey, try StoreJSON.encode(owner))
        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.expired.contains("snapshot a.pv.data"))
        #expect(result.deletedChunks == 0, "b still references every chunk")
        let counts = try await ReferenceCounts(repository: repository).all()
        #expect(counts.values.allSatisfy { $0 == 1 }, "the decrement was applied once: \(Set(counts.values))")
        #expect(try await GarbageCollector(repository: repository).countMismatches().isEmpty)
        // A damaged count is caught.
        _ = try await ReferenceCounts(repository: repository).apply(
            "+corruption", ids: Array(ids.prefix(1)), delta: 1, active: [])
        #expect(try await GarbageCollector(repository: repository).countMismatches() == [ids[0].hex])
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean)
    }

    @Test(
        "a store of the older, name-keyed reference format is adopted: commits assigned, counts rebuilt, nothing lost")
    func legacyOwners() async throws {
        let temp = try TemporaryDirectory("gc")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try SampleData(seed: 43).generate(into: temp.sub("data"), bytes: 1 << 20)
        var legacy = try await TreeBackup(repository: repository).run(source: temp.sub("data"), name: "legacy")
        try await Self.backup(
            "expiring", source: temp.sub("data"), expires: Date(timeIntervalSinceNow: -1), repository: repository)
        // Rewrite the store as the older format left it: no commit in the record, lists and counts keyed by name.
        let list = try await repository.store.get(legacy.owner!.listKey)
        for prefix in ["refs/"] {
            for object in try await repository.store.listAll(prefix: prefix) {
                try await repository.store.delete(object.key)
            }
        }
        legacy.commit = nil
        try await repository.commitRecord(legacy, key: Snapshot.key("legacy"))
        try await repository.store.put("refs/lists/snapshots/legacy", list)
        try await repository.store.put("refs/adopted", [])
        try await repository.store.put("refs/counts/abc", Array(#"{"applied":["+snapshots/legacy"],"counts":{}}"#.utf8))

        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.counted.contains("snapshot legacy"))
        #expect(result.expired.contains("backup expiring"))
        #expect(result.deletedChunks == 0, "the legacy snapshot shares every chunk of the expired backup")
        let adopted = try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "legacy"))
        #expect(adopted.commit.map(CommitID.isValid) == true)
        #expect(try await repository.store.size(of: "refs/lists/snapshots/legacy") == nil)
        #expect(try await GarbageCollector(repository: repository).countMismatches().isEmpty)
        #expect(try await StoreVerifier(repository: repository).verify(readData: true).isClean)
        _ = try await TreeRestore(repository: repository).run(snapshot: "legacy", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("data"), temp.sub("restored")) == [])
    }

    @Test(
        "a backup a dead process left InProgress shows Failed, gc records it Failed with its volume snapshot, which expires with it"
    )
    func abandonedBackup() async throws {
        let temp = try TemporaryDirectory("gc-abandoned")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        try SampleData(seed: 45).generate(into: temp.sub("data"), bytes: 1 << 20)
        let commit = CommitID.make()
        var record = BackupRecord(
            name: "killed", filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "test", cluster: "none")
        record.phase = .inProgress
        record.commit = commit
        record.lockID = "lock-of-a-dead-process"
        try await repository.commitRecord(record, key: BackupRecord.key("killed"))
        _ = try await TreeBackup(repository: repository).run(
            source: temp.sub("data"), name: "killed.pv.data", backupCommit: commit)

        let shown = try await BackupPipeline.showingAbandoned([record], repository: repository)
        #expect(shown[0].phase == .failed)
        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.failed == ["killed"])
        let stored = try #require(try await repository.record(BackupRecord.self, key: BackupRecord.key("killed")))
        #expect(stored.phase == .failed)
        #expect(stored.volumes.map(\.snapshot) == ["killed.pv.data"], "the committed volume snapshot is recorded")

        let deleted = try await GarbageCollector(repository: repository).run(delete: ["killed"])
        #expect(deleted.expired.contains("snapshot killed.pv.data") && deleted.expired.contains("backup killed"))
        #expect(try await Self.chunkIDs(repository).isEmpty, "nothing of the failed backup is left")
    }

    @Test("a live lock blocks the other kind; a stale one is reported and removed by the exclusive locker")
    func locks() async throws {
        let temp = try TemporaryDirectory("gc-locks")
        defer { temp.remove() }
        let repository = try await Self.repository(temp)
        let shared = try await StoreLock.acquire(.shared, repository: repository, operation: "backup")
        let second = try await StoreLock.acquire(.shared, repository: repository, operation: "backup 2")
        await #expect(throws: LockError.self) {
            _ = try await StoreLock.acquire(
                .exclusive, repository: repository, operation: "gc", wait: .milliseconds(300))
        }
        await shared.release()
        await second.release()
        let exclusive = try await StoreLock.acquire(.exclusive, repository: repository, operation: "gc")
        await #expect(throws: LockError.self) {
            _ = try await StoreLock.acquire(
                .shared, repository: repository, operation: "backup", wait: .milliseconds(300))
        }
        await exclusive.release()

        // A lock whose holder's clock is an hour behind, but which the store saw written just now: live. Staleness
        // is judged on the store's clock, not the holder's.
        let skewed = StoreLock.Record(
            kind: .shared, id: "skewed", host: "h", pid: 1, operation: "backup",
            refreshed: Date(timeIntervalSinceNow: -3600))
        try await repository.store.put("locks/shared-skewed.json", try StoreJSON.encode(skewed))
        await #expect(throws: LockError.self) {
            _ = try await StoreLock.acquire(
                .exclusive, repository: repository, operation: "gc", wait: .milliseconds(300))
        }
        // The same lock last written (by the store's clock) longer ago than the store's threshold: a crashed
        // process's. It is reported and removed by the exclusive locker.
        try FileSystem.setModificationTime(
            temp.sub("store/locks/shared-skewed.json"), seconds: Int64(Date().timeIntervalSince1970) - 3 * 3600,
            nanoseconds: 0)
        let gc = try await StoreLock.acquire(.exclusive, repository: repository, operation: "gc")
        #expect(try await StoreLock.locks(repository).map(\.id) == [gc.record.id], "the stale lock was removed")
        await gc.release()
        #expect(try await StoreLock.locks(repository).isEmpty)
    }
}

@Suite("Reference state maintenance")
struct ReferenceStateTests {
    @Test("gc on an empty store does nothing; rebuilding the counts from the manifests gives the same counts")
    func emptyAndRebuild() async throws {
        let temp = try TemporaryDirectory("gc-rebuild")
        defer { temp.remove() }
        let repository = try await ExpiryTests.repository(temp)
        let empty = try await GarbageCollector(repository: repository).run()
        #expect(empty.expired.isEmpty && empty.deletedChunks == 0)

        try SampleData(seed: 44).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await ExpiryTests.backup("one", source: temp.sub("data"), expires: nil, repository: repository)
        try SampleData(seed: 44).mutate(directory: temp.sub("data"), fraction: 0.2)
        try await ExpiryTests.backup("two", source: temp.sub("data"), expires: nil, repository: repository)
        _ = try await GarbageCollector(repository: repository).run()
        let before = try await ReferenceCounts(repository: repository).all()
        #expect(before.values.contains(2), "shared chunks are counted twice")
        let rebuilt = try await GarbageCollector(repository: repository).run(rebuildCounts: true)
        #expect(rebuilt.deletedChunks == 0)
        #expect(try await ReferenceCounts(repository: repository).all() == before)
        #expect(try await GarbageCollector(repository: repository).countMismatches().isEmpty)
    }
}
