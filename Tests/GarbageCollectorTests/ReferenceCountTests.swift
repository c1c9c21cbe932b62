import BackupModel
import Foundation
import SampleData
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore
@testable import Collectors
@testable import GarbageCollector

@Suite("Reference-count shards")
struct ReferenceCountTests {
    static let low = ChunkID(hex: String(repeating: "01", count: 32))!
    static let high = ChunkID(hex: String(repeating: "ff", count: 32))!

    @Test("a shard's binary layout, byte for byte (a format-defining vector), and back")
    func layout() throws {
        var shard = CountShard()
        shard.applied = ["+ab", "-cd"]
        shard.add(1, to: Self.high)
        shard.add(2, to: Self.low)
        let expected =
            "56435243" + "01" + "0002" + "032b6162" + "032d6364" + "00000002"
            + String(repeating: "01", count: 32) + "00000002" + String(repeating: "ff", count: 32) + "00000001"
        #expect(shard.encoded().map { String(format: "%02x", $0) }.joined() == expected)
        #expect(try CountShard(decoding: shard.encoded(), key: "refs/counts/01") == shard)
        #expect(CountShard.index(of: Self.high) == 255 && CountShard.name(255) == "ff" && CountShard.name(1) == "01")
    }

    @Test("a count that reaches zero is dropped, never stored as zero")
    func zero() throws {
        var shard = CountShard()
        shard.add(1, to: Self.low)
        shard.add(-1, to: Self.low)
        shard.add(-1, to: Self.high)
        #expect(shard.counts.isEmpty)
    }

    @Test("a damaged shard is refused and named", arguments: ["truncated", "not a shard", "stored zero"])
    func damaged(what: String) throws {
        var shard = CountShard()
        shard.add(3, to: Self.low)
        let bytes = shard.encoded()
        let damaged =
            switch what {
            case "truncated": Array(bytes.dropLast(3))
            case "not a shard": Array("{\"counts\":{}}".utf8)
            default: Array(bytes.dropLast(4)) + [0, 0, 0, 0]
            }
        do {
            _ = try CountShard(decoding: damaged, key: "refs/counts/01")
            Issue.record("\(what): decoded")
        } catch {
            #expect("\(error)".contains("refs/counts/01"), "\(what): \(error)")
        }
    }

    @Test("counts of the older layout (4,096 JSON shards, version 2) are rebuilt once, and expiry stays exact")
    func upgradeFromJSONShards() async throws {
        let temp = try TemporaryDirectory("gc-upgrade")
        defer { temp.remove() }
        let repository = try await ExpiryTests.repository(temp)
        try SampleData(seed: 61).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await ExpiryTests.backup("a", source: temp.sub("data"), expires: nil, repository: repository)
        try SampleData(seed: 61).mutate(directory: temp.sub("data"), fraction: 0.5)
        try await ExpiryTests.backup("b", source: temp.sub("data"), expires: nil, repository: repository)
        _ = try await GarbageCollector(repository: repository).run()
        let before = try await ReferenceCounts(repository: repository).all()
        // The store as the older layout left it: JSON shards named by three hex digits, version 2.
        for object in try await repository.store.listAll(prefix: "refs/counts/") {
            try await repository.store.delete(object.key)
        }
        try await repository.store.put("refs/counts/abc", Array(#"{"applied":[],"counts":{"abc0":1}}"#.utf8))
        try await repository.store.put(GarbageCollector.versionKey, Array("2".utf8))

        let onlyA = try await ExpiryTests.referenced(
            try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "a.pv.data")),
            repository: repository)
        let neededByB = try await ExpiryTests.referenced(
            try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "b.pv.data")),
            repository: repository)
        let result = try await GarbageCollector(repository: repository).run(delete: ["a"])
        #expect(result.expired.contains("backup a"))
        #expect(String(decoding: try await repository.store.get(GarbageCollector.versionKey), as: UTF8.self) == "3")
        let shards = try await repository.store.listAll(prefix: "refs/counts/").map(\.key)
        #expect(shards.allSatisfy { $0.count == "refs/counts/".count + 2 }, "\(shards)")
        #expect(try await GarbageCollector(repository: repository).countMismatches().isEmpty)
        let remaining = try await ExpiryTests.chunkIDs(repository)
        #expect(remaining == neededByB, "exactly b's chunks remain")
        #expect(!onlyA.subtracting(neededByB).isEmpty && remaining.isDisjoint(with: onlyA.subtracting(neededByB)))
        let counts = try await ReferenceCounts(repository: repository).all()
        #expect(counts.count == neededByB.count && before.count > counts.count)
    }

    @Test("a reference state written by a newer velero-cas is refused with its version named")
    func newerVersion() async throws {
        let temp = try TemporaryDirectory("gc-newer")
        defer { temp.remove() }
        let repository = try await ExpiryTests.repository(temp)
        _ = try await GarbageCollector(repository: repository).run()
        try await repository.store.put(GarbageCollector.versionKey, Array("9".utf8))
        await #expect { try await GarbageCollector(repository: repository).run() } throws: { error in
            "\(error)".contains("reference state version '9'")
        }
    }

    @Test(
        "an expiry whose record a power cut removed but whose resource manifest came back is finished: the manifest goes"
    )
    func manifestOutlivesRecord() async throws {
        let temp = try TemporaryDirectory("gc-manifest")
        defer { temp.remove() }
        let repository = try await ExpiryTests.repository(temp)
        try SampleData(seed: 62).generate(into: temp.sub("data"), bytes: 1 << 20)
        try await ExpiryTests.backup("gone", source: temp.sub("data"), expires: nil, repository: repository)
        let record = try #require(try await repository.record(BackupRecord.self, key: BackupRecord.key("gone")))
        let resources = ResourceManifest(
            name: "gone", server: "none", startedAt: Date(), completedAt: Date(), filter: ResourceFilter(), streams: [],
            warnings: [])
        let manifest = ResourceManifestRecord(
            name: "gone", manifest: try await repository.putBlob(try StoreJSON.encode(resources)),
            summary: CollectionSummary(
                resourceTypes: 0, objects: 0, bytes: 0, newStoredBytes: 0, newChunks: 0, reusedChunks: 0, seconds: 0,
                warnings: 0),
            commit: record.commit)
        try await repository.commitRecord(manifest, key: ResourceManifestRecord.key("gone"))
        _ = try await GarbageCollector(repository: repository).run()
        // The state a power cut during the expiry left: both journals, the backup record gone, the manifest back.
        let snapshot = try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "gone.pv.data"))
        for owner in [record.owner!, snapshot.owner!] {
            try await repository.store.put(owner.journalKey, try StoreJSON.encode(owner, pretty: false))
        }
        try await repository.store.delete(BackupRecord.key("gone"))

        let result = try await GarbageCollector(repository: repository).run()
        #expect(result.expired.contains("backup gone") && result.expired.contains("snapshot gone.pv.data"))
        #expect(try await repository.store.size(of: ResourceManifestRecord.key("gone")) == nil)
        #expect(try await repository.store.size(of: Snapshot.key("gone.pv.data")) == nil)
        #expect(try await repository.store.listAll(prefix: "refs/expiring/").isEmpty)
        #expect(try await ExpiryTests.chunkIDs(repository).isEmpty, "nothing else referenced its chunks")
        #expect(try await GarbageCollector(repository: repository).countMismatches().isEmpty)
    }
}
