import ChunkStore
import SampleData
import SystemIO
import TestSupport
import Testing

@Suite("Tree backup and restore round trips")
struct TreeRoundTripTests {
    @Test(
        "a restore recreates the tree exactly, also a durable one (writeback per run, each file and directory fsynced)",
        arguments: [false, true])
    func restoreRecreatesTheTreeExactly(durable: Bool) async throws {
        let temp = try TemporaryDirectory("tree-roundtrip")
        defer { temp.remove() }
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))

        let snapshot = try await TreeBackup(repository: repository).run(source: source, name: "first")
        #expect(snapshot.source == source)
        #expect(snapshot.parent == nil)
        #expect(snapshot.summary.files > 10)
        #expect(snapshot.summary.symlinks == 2)
        #expect(snapshot.summary.unchangedFiles == 0)
        #expect(snapshot.summary.newChunks > 0)
        #expect(snapshot.summary.logicalBytes >= 3_000_000)

        let target = temp.sub("restore")
        let restored = try await TreeRestore(repository: repository, durable: durable).run(
            snapshot: "first", into: target)
        #expect(restored.files == snapshot.summary.files)
        #expect(restored.symlinks == 2)
        #expect(restored.bytes == snapshot.summary.logicalBytes)
        #expect(try await TreeFixtures.differences(source, target) == [])
        #expect(try FileSystem.status(target + "/" + TreeFixtures.privateFile).mode == 0o600)
        #expect(try FileSystem.status(target + "/" + TreeFixtures.privateDirectory).mode == 0o700)
        #expect(try FileSystem.readSymlink(target + "/link-to-dir") == "dir-0")
        #expect(try FileSystem.status(target + "/empty/nested-empty").kind == .directory)
    }

    @Test func unchangedTreeStoresNothingNew() async throws {
        let temp = try TemporaryDirectory("tree-unchanged")
        defer { temp.remove() }
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let first = try await TreeBackup(repository: repository).run(source: source, name: "first")

        let second = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(second.parent == "first")
        #expect(second.summary.files == first.summary.files)
        #expect(second.summary.unchangedFiles == second.summary.files)
        #expect(second.summary.newStoredBytes == 0)
        #expect(second.summary.newChunks == 0)
        #expect(second.manifest == first.manifest, "an unchanged tree has the same manifest")

        // A fresh process: a newly opened repository knows nothing in memory and still uploads no chunk.
        let counting = CountingStore(try LocalDirectoryStore(root: temp.sub("store")))
        let reopened = try await Repository.open(counting)
        let third = try await TreeBackup(repository: reopened).run(source: source, name: "third")
        #expect(third.parent == "second")
        #expect(third.summary.unchangedFiles == third.summary.files)
        #expect(third.summary.newStoredBytes == 0)
        #expect(counting.packPuts == 0)
        // Besides its record, only bookkeeping is written: its lock and its reference list; no data.
        let written = Set(counting.putCounts.keys)
        #expect(written.contains(Snapshot.key("third")))
        #expect(
            written.allSatisfy { $0 == Snapshot.key("third") || $0.hasPrefix("locks/") || $0.hasPrefix("refs/") },
            "\(written)")

        let target = temp.sub("restore")
        _ = try await TreeRestore(repository: reopened).run(snapshot: "third", into: target)
        #expect(try await TreeFixtures.differences(source, target) == [])
    }

    @Test("a change of a directory's mode alone makes a new manifest (an unchanged tree reuses its parent's)")
    func metadataOnlyChangeMakesANewManifest() async throws {
        let temp = try TemporaryDirectory("tree-metadata")
        defer { temp.remove() }
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let first = try await TreeBackup(repository: repository).run(source: source, name: "first")
        try FileSystem.setMode(source + "/" + TreeFixtures.privateDirectory, mode: 0o750)
        let second = try await TreeBackup(repository: repository).run(source: source, name: "second")
        #expect(second.summary.unchangedFiles == second.summary.files, "no file content changed")
        #expect(second.manifest != first.manifest)
        let target = temp.sub("restore")
        _ = try await TreeRestore(repository: repository).run(snapshot: "second", into: target)
        #expect(try FileSystem.status(target + "/" + TreeFixtures.privateDirectory).mode == 0o750)
        let third = try await TreeBackup(repository: repository).run(source: source, name: "third")
        #expect(third.manifest == second.manifest)
    }

    @Test func changedTreeRereadsOnlyChangedFilesAndRestoresExactly() async throws {
        let temp = try TemporaryDirectory("tree-mutated")
        defer { temp.remove() }
        let source = temp.sub("source")
        try await TreeFixtures.sampleTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let first = try await TreeBackup(repository: repository).run(source: source, name: "before")

        let changed = try await BlockingPool.shared.run {
            try SampleData(seed: 7).mutate(directory: source, fraction: 0.05)
        }
        #expect(changed > 0)
        let second = try await TreeBackup(repository: repository).run(source: source, name: "after")
        #expect(second.parent == "before")
        #expect(second.summary.unchangedFiles < second.summary.files)
        #expect(second.summary.unchangedFiles > second.summary.files / 2, "most files were not touched")
        #expect(second.summary.newChunks > 0)
        #expect(second.summary.newStoredBytes < first.summary.newStoredBytes / 4, "only the changes are stored")

        let target = temp.sub("restore-after")
        _ = try await TreeRestore(repository: repository).run(snapshot: "after", into: target)
        #expect(try await TreeFixtures.differences(source, target) == [])

        // The older snapshot still restores, and it holds the old content.
        let old = temp.sub("restore-before")
        let oldSummary = try await TreeRestore(repository: repository).run(snapshot: "before", into: old)
        #expect(oldSummary.files == first.summary.files)
        #expect(try await TreeFixtures.differences(source, old).contains { $0.hasSuffix("content differs") })
    }
}
