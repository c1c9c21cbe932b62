import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// A manifest, even a hostile one, can never make a restore write outside its target.
@Suite("Manifest path safety")
struct ManifestPathSafetyTests {
    @Test(arguments: ["/etc/passwd", "../x", "a/../../x", "a//b", "", "./a", "a/.", "a/", "..", "a/\u{0}b"])
    func unsafePathsAreRejected(path: String) {
        let error = #expect(throws: ChunkStoreError.self) { try ManifestPath.validate(path) }
        #expect(caseName(error) == "unsafeManifestPath")
    }

    @Test(arguments: ["a/b.c", "a", "..a/b..", ".hidden/x", "a b/c"])
    func safePathsAreAccepted(path: String) throws {
        try ManifestPath.validate(path)
    }

    private static func entry(_ path: String, _ kind: TreeEntry.Kind, target: String? = nil) -> TreeEntry {
        TreeEntry(
            path: path, kind: kind, mode: kind == .directory ? 0o755 : 0o644, size: 0, mtime: 1_700_000_000,
            mtimeNanoseconds: 0, ctime: 0, ctimeNanoseconds: 0, inode: 0, target: target,
            chunks: kind == .file ? [] : nil)
    }

    private static func restore(_ entries: [TreeEntry], into target: String, overwrite: Bool = false) async throws {
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: target + "-store", create: true))
        _ = try await TreeRestore(repository: repository).restore(
            entries: entries, into: target, overwrite: overwrite, started: .now)
    }

    @Test func dotDotEntryIsRefusedBeforeAnythingIsWritten() async throws {
        let temp = try TemporaryDirectory("manifest-dotdot")
        defer { temp.remove() }
        let target = temp.sub("target")
        let error = await #expect(throws: ChunkStoreError.self) {
            try await Self.restore([Self.entry("ok", .file), Self.entry("../escape", .file)], into: target)
        }
        guard case .unsafeManifestPath(let path, _)? = error else {
            Issue.record("expected unsafeManifestPath, got \(String(describing: error))")
            return
        }
        #expect(path == "../escape")
        #expect(try FileSystem.statusIfExists(temp.sub("escape")) == nil)
        #expect(try FileSystem.statusIfExists(target) == nil, "validation happens before the target is touched")
    }

    @Test func fileBeneathASymlinkEntryCannotEscape() async throws {
        let temp = try TemporaryDirectory("manifest-link-entry")
        defer { temp.remove() }
        let outside = temp.sub("outside-dir")
        try FileSystem.makeDirectories(outside)
        let entries = [Self.entry("link", .symlink, target: outside), Self.entry("link/evil", .file)]
        let error = await #expect(throws: ChunkStoreError.self) {
            try await Self.restore(entries, into: temp.sub("target"))
        }
        #expect(caseName(error) == "unsafeManifestPath", "got \(String(describing: error))")
        #expect(try FileSystem.contentsOfDirectory(outside).isEmpty, "a file was written through the symlink")
        #expect(try FileSystem.statusIfExists(temp.sub("target")) == nil, "refused before anything is written")
    }

    @Test func pathListedTwiceIsRefused() async throws {
        let temp = try TemporaryDirectory("manifest-duplicate")
        defer { temp.remove() }
        let outside = temp.sub("outside-dir")
        try FileSystem.makeDirectories(outside)
        // A directory "d" and a symlink "d" leaving the target, with a file beneath.
        let entries = [
            Self.entry("d", .directory), Self.entry("d", .symlink, target: outside), Self.entry("d/f", .file),
        ]
        let error = await #expect(throws: ChunkStoreError.self) {
            try await Self.restore(entries, into: temp.sub("target"))
        }
        #expect(caseName(error) == "unsafeManifestPath", "got \(String(describing: error))")
        #expect(try FileSystem.contentsOfDirectory(outside).isEmpty)
        #expect(try FileSystem.statusIfExists(temp.sub("target")) == nil)
    }

    @Test(arguments: [false, true])
    func symlinkAlreadyInTheTargetIsNotFollowed(withDirectoryEntry: Bool) async throws {
        let temp = try TemporaryDirectory("manifest-link-target")
        defer { temp.remove() }
        let outside = temp.sub("outside-dir")
        try FileSystem.makeDirectories(outside)
        let target = temp.sub("target")
        try FileSystem.makeDirectories(target)
        try FileSystem.makeSymlink(target + "/sub", target: outside)
        let entries = (withDirectoryEntry ? [Self.entry("sub", .directory)] : []) + [Self.entry("sub/evil", .file)]
        let error = await #expect(throws: ChunkStoreError.self) {
            try await Self.restore(entries, into: target, overwrite: true)
        }
        #expect(caseName(error) == "unsafeManifestPath", "got \(String(describing: error))")
        #expect(try FileSystem.contentsOfDirectory(outside).isEmpty, "a file was written through the symlink")
        #expect(try FileSystem.status(target + "/sub").kind == .symlink)
    }

    @Test func overwritingAFileThatIsASymlinkReplacesTheLinkNotItsTarget() async throws {
        let temp = try TemporaryDirectory("manifest-link-file")
        defer { temp.remove() }
        let victim = temp.sub("victim")
        try Array("precious".utf8).withUnsafeBytes { try FileSystem.writeAtomically(victim, bytes: $0) }
        let target = temp.sub("target")
        try FileSystem.makeDirectories(target)
        try FileSystem.makeSymlink(target + "/f", target: victim)
        try await Self.restore([Self.entry("f", .file)], into: target, overwrite: true)
        #expect(try FileSystem.readFile(victim) == Array("precious".utf8))
        #expect(try FileSystem.status(target + "/f").kind == .regular)
        #expect(try FileSystem.readFile(target + "/f").isEmpty)
    }

    @Test func fileWhoseChunksDisagreeWithItsSizeIsRefused() async throws {
        let temp = try TemporaryDirectory("manifest-size")
        defer { temp.remove() }
        var entry = Self.entry("f", .file)
        entry.size = 10
        let error = await #expect(throws: ChunkStoreError.self) {
            try await Self.restore([entry], into: temp.sub("target"))
        }
        #expect(caseName(error) == "unsafeManifestPath")
        #expect(try FileSystem.statusIfExists(temp.sub("target")) == nil)
    }
}
