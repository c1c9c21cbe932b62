import BackupModel
import Foundation
import Synchronization
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore
@testable import Collectors
@testable import GarbageCollector
@testable import SampleData

@Suite("Garbage collection under random interleavings")
struct InterleavingTests {
    /// Contents shared between backups, so they share chunks and deletions must spare what others still use.
    static func pool(seed: UInt64) -> [[UInt8]] {
        var random = SplitMix(seed: seed)
        return (0..<12).map { _ in
            var block = [UInt8]()
            SampleData.fillRandom(&block, count: Int.random(in: 2_000...40_000, using: &random), random: &random)
            return block
        }
    }

    /// Backs up a fresh tree of pooled files as backup `name`, the way the pipeline does (under a shared lock).
    static func backup(_ name: String, files: [Int], pool: [[UInt8]], root: String, repository: Repository) async throws
    {
        let source = root + "/" + name
        for (index, blob) in files.enumerated() {
            try FileSystem.makeDirectories(source)
            try pool[blob].withUnsafeBytes {
                try FileSystem.writeAtomically(source + "/file-\(index)", bytes: $0, syncDirectory: false)
            }
        }
        let lock = try await StoreLock.acquire(.shared, repository: repository, operation: "backup \(name)")
        let commit = CommitID.make()
        let snapshot = try await TreeBackup(repository: repository, fileConcurrency: 2).run(
            source: source, name: "\(name).pv.data", backupCommit: commit)
        var record = BackupRecord(
            name: name, filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "t", cluster: "none")
        record.phase = .completed
        record.commit = commit
        record.volumes = [
            VolumeRecord(
                persistentVolume: "data", claim: nil, path: source, snapshot: snapshot.name, files: files.count,
                logicalBytes: 0, newStoredBytes: 0, seconds: 0, skipped: nil)
        ]
        try await repository.commitRecord(record, key: BackupRecord.key(name))
        await lock.release()
    }

    @Test(
        "rounds of concurrent backups, deletions and collections never lose a byte of a remaining backup",
        arguments: [1, 2])
    func randomInterleavings(seed: UInt64) async throws {
        let temp = try TemporaryDirectory("interleave")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        let pool = Self.pool(seed: seed)
        var random = SplitMix(seed: seed &* 7919)
        let expected = Expected()
        var counter = 0
        for round in 0..<100 {
            let names = expected.state.withLock { Array($0.keys) }.sorted()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    let choice = Int.random(in: 0..<10, using: &random)
                    if choice < 5 || names.isEmpty {
                        counter += 1
                        let name = "b\(counter)"
                        let files = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                            Int.random(in: 0..<pool.count, using: &random)
                        }
                        group.addTask {
                            try await Self.backup(
                                name, files: files, pool: pool, root: temp.sub("sources"), repository: repository)
                            expected.state.withLock { $0[name] = files }
                        }
                    } else if choice < 8 {
                        let victim = names[Int.random(in: 0..<names.count, using: &random)]
                        group.addTask {
                            // Another task may have deleted it already this round.
                            do {
                                _ = try await GarbageCollector(repository: repository).run(delete: [victim])
                                expected.state.withLock { _ = $0.removeValue(forKey: victim) }
                            } catch ChunkStoreError.snapshotNotFound {}
                        }
                    } else {
                        group.addTask { _ = try await GarbageCollector(repository: repository).run() }
                    }
                }
                try await group.waitForAll()
            }
            let report = try await StoreVerifier(repository: repository).verify(readData: true)
            #expect(report.isClean, "round \(round): \(report.damage.prefix(3))")
            for (name, files) in expected.state.withLock({ $0 }) {
                let target = temp.sub("restore-\(round)-\(name)")
                _ = try await TreeRestore(repository: repository).run(snapshot: "\(name).pv.data", into: target)
                for (index, blob) in files.enumerated() {
                    #expect(
                        try FileSystem.readFile(target + "/file-\(index)") == pool[blob],
                        "round \(round): \(name) file \(index)")
                }
                try FileSystem.removeTree(target)
            }
        }
        // After a last collection, nothing unreferenced is left.
        _ = try await GarbageCollector(repository: repository).run()
        #expect(try await StoreVerifier(repository: repository).verify(readData: false).orphanedChunks == 0)
    }
}

/// What each remaining backup holds (names → pooled file indices), shared by the round's tasks.
final class Expected: Sendable {
    let state = Mutex<[String: [Int]]>([:])
}
