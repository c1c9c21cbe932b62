import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import SampleData
import SystemIO
import TestSupport
import Testing

/// Garbage collection at pack granularity: packs only an expired snapshot used are deleted, packs it shared are
/// repacked, and nothing else is touched.
@Suite("Garbage collection of packs")
struct PackCollectionTests {
    static func write(_ directory: String, files: [(String, Int, UInt64)]) throws {
        try FileSystem.makeDirectories(directory)
        for (name, size, seed) in files {
            var generator = SplitMix(seed: seed)
            let bytes = (0..<(size + 7) / 8).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } }
            try Array(bytes.prefix(size)).withUnsafeBytes {
                try FileSystem.writeAtomically(directory + "/" + name, bytes: $0)
            }
        }
    }

    static func packKeys(_ store: any ObjectStore) async throws -> Set<String> {
        Set(try await store.listAll(prefix: PackLayout.prefix).map(\.key))
    }

    static func packBytes(_ store: any ObjectStore) async throws -> Int {
        try await store.listAll(prefix: PackLayout.prefix).reduce(0) { $0 + $1.size }
    }

    @Test("forgetting a snapshot deletes exactly the packs only it used; the other's packs are not rewritten")
    func deadPacksGo() async throws {
        let temp = try TemporaryDirectory("gc-packs")
        defer { temp.remove() }
        try Self.write(temp.sub("a"), files: (0..<4).map { ("f\($0)", 200_000, UInt64($0)) })
        try Self.write(temp.sub("b"), files: (0..<4).map { ("f\($0)", 200_000, UInt64(100 + $0)) })
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let limits = Repository.Limits(requestsInFlight: 8, bytesInFlight: 16 << 20, packSize: 64 << 10)
        let repository = try await Repository.openOrCreate(base, limits: limits)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("a"), name: "a")
        let packsA = try await Self.packKeys(base)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("b"), name: "b")
        let packsB = try await Self.packKeys(base).subtracting(packsA)
        #expect(packsA.count > 3 && packsB.count > 3, "small packs: \(packsA.count), \(packsB.count)")

        let counting = CountingStore(base)
        let collector = GarbageCollector(repository: try await Repository.open(counting, limits: limits))
        let result = try await collector.run(forgetSnapshots: ["a"])
        #expect(try await Self.packKeys(base) == packsB, "a's packs are gone, b's stay as they were")
        #expect(result.deletedPacks == packsA.count)
        #expect(result.repackedPacks == 0)
        #expect(counting.packPuts == 0, "no pack was written")
        let target = temp.sub("restored")
        _ = try await TreeRestore(repository: try await Repository.open(base)).run(snapshot: "b", into: target)
        #expect(try SampleData.compareTrees(temp.sub("b"), target) == [])
        let report = try await StoreVerifier(repository: try await Repository.open(base)).verify(readData: true)
        #expect(report.isClean && report.orphanedChunks == 0, "\(report.damage.prefix(2))")
    }

    /// A snapshot of four files, and a second one of the first file alone (its chunks are shared).
    static func sharedPack(_ temp: TemporaryDirectory, store: any ObjectStore) async throws {
        try Self.write(temp.sub("all"), files: (0..<4).map { ("f\($0)", 60_000, UInt64(40 + $0)) })
        try Self.write(temp.sub("one"), files: [("f0", 60_000, 40)])
        let repository = try await Repository.openOrCreate(store)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("all"), name: "all")
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("one"), name: "one")
    }

    @Test("a pack whose live share falls below half is repacked: its live chunks move, the space comes back")
    func sharedPacksAreRepacked() async throws {
        let temp = try TemporaryDirectory("gc-repack")
        defer { temp.remove() }
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        try await Self.sharedPack(temp, store: base)
        let before = try await Self.packBytes(base)
        let result = try await GarbageCollector(repository: try await Repository.open(base)).run(
            forgetSnapshots: ["all"])
        #expect(result.repackedPacks >= 1, "\(result)")
        let after = try await Self.packBytes(base)
        #expect(after < before / 2, "packs hold \(after) bytes, were \(before)")
        let repository = try await Repository.open(base)
        _ = try await TreeRestore(repository: repository).run(snapshot: "one", into: temp.sub("restored"))
        #expect(try SampleData.compareTrees(temp.sub("one"), temp.sub("restored")) == [])
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        #expect(report.isClean && report.orphanedChunks == 0, "\(report.damage.prefix(2))")
    }

    @Test("a pack shorter than its index says stops the collection with an error naming it, and deletes no pack")
    func truncatedPackIsReported() async throws {
        let temp = try TemporaryDirectory("gc-truncated")
        defer { temp.remove() }
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        try await Self.sharedPack(temp, store: base)
        // Every pack cut to its first bytes, as a damaged or partly replaced object in the store.
        for key in try await Self.packKeys(base) {
            let bytes = try await base.get(key)
            try await base.put(key, Array(bytes.prefix(8)))
        }
        let packs = try await Self.packKeys(base)
        do {
            _ = try await GarbageCollector(repository: try await Repository.open(base)).run(forgetSnapshots: ["all"])
            Issue.record("the collection went on past a truncated pack")
        } catch ChunkStoreError.corruptChunk(_, let key, let reason) {
            #expect(packs.contains(key), "\(key)")
            #expect(reason.contains("shorter"), "\(reason)")
        }
        #expect(try await Self.packKeys(base) == packs, "no pack was deleted")
    }

    @Test("a repacking collection crashed after every write, with and without a power cut, loses nothing")
    func repackCrashAtEveryWrite() async throws {
        var crashAfter = 1
        var power = false
        while true {
            let temp = try TemporaryDirectory("gc-repack-crash")
            defer { temp.remove() }
            let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
            try await Self.sharedPack(temp, store: base)
            let faulty = FaultInjectingStore(base: base, crashAfter: crashAfter)
            do {
                _ = try await GarbageCollector(repository: try await Repository.open(faulty)).run(
                    forgetSnapshots: ["all"], lockWait: .seconds(5))
            } catch {
                #expect(faulty.crashed, "only the simulated crash stops it: \(error)")
            }
            let crashed = faulty.crashed
            if crashed {
                if power { _ = try await faulty.powerLoss(seed: UInt64(crashAfter)) }
                for lock in try await base.listAll(prefix: "locks/") { try await base.delete(lock.key) }
                _ = try await GarbageCollector(repository: try await Repository.open(base)).run(
                    orphans: true, lockWait: .seconds(5))
            }
            let context = "crash after write \(crashAfter)\(power ? " + power cut" : "")"
            let repository = try await Repository.open(base)
            _ = try await TreeRestore(repository: repository).run(snapshot: "one", into: temp.sub("restored"))
            #expect(try SampleData.compareTrees(temp.sub("one"), temp.sub("restored")) == [], "\(context)")
            let report = try await StoreVerifier(repository: repository).verify(readData: true)
            #expect(report.isClean, "\(context): \(report.damage.prefix(2))")
            #expect(try await base.listAll(prefix: Repository.repackingPrefix).isEmpty, "\(context): journals left")
            if !crashed {
                #expect(crashAfter > 8, "the collection made several writes")
                if power { break }
                (crashAfter, power) = (1, true)
            } else {
                crashAfter += 1
            }
        }
    }

    @Test("many small index objects (one per commit) are merged by gc; every snapshot still restores")
    func smallIndexObjectsAreMerged() async throws {
        let temp = try TemporaryDirectory("gc-index-merge")
        defer { temp.remove() }
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let repository = try await Repository.openOrCreate(base)
        for index in 0..<70 {
            try Self.write(temp.sub("d\(index)"), files: [("f", 3_000, UInt64(500 + index))])
            _ = try await TreeBackup(repository: repository).run(source: temp.sub("d\(index)"), name: "s\(index)")
        }
        let before = try await base.listAll(prefix: IndexFile.prefix).count
        #expect(before >= 70, "one index object per commit: \(before)")
        let result = try await GarbageCollector(repository: try await Repository.open(base)).run()
        let after = try await base.listAll(prefix: IndexFile.prefix).count
        #expect(result.mergedIndexObjects == before && after == 1, "\(before) index objects became \(after)")
        let reopened = try await Repository.open(base)
        for index in [0, 35, 69] {
            _ = try await TreeRestore(repository: reopened).run(snapshot: "s\(index)", into: temp.sub("r\(index)"))
            #expect(try SampleData.compareTrees(temp.sub("d\(index)"), temp.sub("r\(index)")) == [])
        }
        let report = try await StoreVerifier(repository: reopened).verify(readData: true)
        #expect(report.isClean && report.orphanedChunks == 0)
    }
}
