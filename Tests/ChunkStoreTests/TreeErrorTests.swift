import ChunkStore
import SystemIO
import TestSupport
import Testing

/// Bad requests to tree backup and restore fail clearly and damage nothing.
@Suite("Tree backup and restore errors")
struct TreeErrorTests {
    @Test func restoreIntoNonEmptyTargetNeedsOverwrite() async throws {
        let temp = try TemporaryDirectory("tree-nonempty")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeBackup(repository: repository).run(source: source, name: "snap")

        let target = temp.sub("target")
        try FileSystem.makeDirectories(target)
        try Array("keep me".utf8).withUnsafeBytes { try FileSystem.writeAtomically(target + "/a.txt", bytes: $0) }
        let error = await #expect(throws: ChunkStoreError.self) {
            try await TreeRestore(repository: repository).run(snapshot: "snap", into: target)
        }
        guard case .targetNotEmpty(let path)? = error else {
            Issue.record("expected targetNotEmpty, got \(String(describing: error))")
            return
        }
        #expect(path == target)
        #expect(try FileSystem.readFile(target + "/a.txt") == Array("keep me".utf8))
        #expect(try FileSystem.contentsOfDirectory(target) == ["a.txt"], "nothing else was written")

        _ = try await TreeRestore(repository: repository).run(snapshot: "snap", into: target, overwrite: true)
        #expect(try FileSystem.readFile(target + "/a.txt") == Array("hello\n".utf8))
        #expect(try await TreeFixtures.differences(source, target) == [])
    }

    @Test func restoringAnUnknownSnapshotIsSnapshotNotFound() async throws {
        let temp = try TemporaryDirectory("tree-unknown")
        defer { temp.remove() }
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let error = await #expect(throws: ChunkStoreError.self) {
            try await TreeRestore(repository: repository).run(snapshot: "no-such-snapshot", into: temp.sub("target"))
        }
        guard case .snapshotNotFound(let name, _)? = error else {
            Issue.record("expected snapshotNotFound, got \(String(describing: error))")
            return
        }
        #expect(name == "no-such-snapshot")
        #expect(try FileSystem.statusIfExists(temp.sub("target")) == nil)
    }

    @Test func unreadableSourcesAreSourceUnreadable() async throws {
        let temp = try TemporaryDirectory("tree-source")
        defer { temp.remove() }
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        try [UInt8(1)].withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("plain-file"), bytes: $0) }
        for (source, name) in [(temp.sub("missing"), "from-missing"), (temp.sub("plain-file"), "from-file")] {
            let error = await #expect(throws: ChunkStoreError.self) {
                try await TreeBackup(repository: repository).run(source: source, name: name)
            }
            guard case .sourceUnreadable(let path, _)? = error else {
                Issue.record("expected sourceUnreadable for \(source), got \(String(describing: error))")
                continue
            }
            #expect(path == source)
        }
        #expect(try await SnapshotCatalog(repository: repository).all().isEmpty, "no snapshot was committed")
    }

    @Test func duplicateSnapshotNameIsRefused() async throws {
        let temp = try TemporaryDirectory("tree-duplicate")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let first = try await TreeBackup(repository: repository).run(source: source, name: "nightly")
        let error = await #expect(throws: ChunkStoreError.self) {
            try await TreeBackup(repository: repository).run(source: source, name: "nightly")
        }
        #expect(caseName(error) == "snapshotExists")
        let kept = try await SnapshotCatalog(repository: repository).snapshot(named: "nightly")
        #expect(kept?.manifest == first.manifest && kept?.summary == first.summary, "the first snapshot is untouched")

        let parentError = await #expect(throws: ChunkStoreError.self) {
            try await TreeBackup(repository: repository).run(source: source, name: "other", parent: "no-such-parent")
        }
        #expect(caseName(parentError) == "snapshotNotFound")
    }

    @Test(arguments: ["Bad_Name", "", "UPPER", "-leading", "trailing-", "has space", "a/b", "dots..", "é"])
    func invalidSnapshotNamesAreRefused(name: String) async throws {
        let temp = try TemporaryDirectory("tree-names")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        let error = await #expect(throws: ChunkStoreError.self) {
            try await TreeBackup(repository: repository).run(source: source, name: name)
        }
        guard case .invalidName(let reported, let reason)? = error else {
            Issue.record("expected invalidName, got \(String(describing: error))")
            return
        }
        #expect(reported == name)
        #expect(!reason.isEmpty)
        #expect(try await repository.store.listAll(prefix: "").map(\.key) == [RepositoryConfig.key], "nothing stored")
    }
}
