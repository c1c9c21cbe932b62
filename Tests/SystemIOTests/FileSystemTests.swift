import Glibc
import SystemIO
import TestSupport
import Testing

@Suite("FileSystem")
struct FileSystemTests {
    @Test func writeAtomicallyThenReadFileRoundTrips() throws {
        let temp = try TemporaryDirectory("fs-atomic")
        defer { temp.remove() }
        let path = temp.sub("data.bin")
        let first: [UInt8] = Array("first version".utf8)
        let second: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try first.withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
        #expect(try FileSystem.readFile(path) == first)
        try second.withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
        #expect(try FileSystem.readFile(path) == second, "a second write replaces the file whole")
        #expect(try FileSystem.contentsOfDirectory(temp.path) == ["data.bin"], "no temporary file is left behind")
    }

    @Test("parts written atomically make the file their concatenation, small and large parts mixed")
    func writeAtomicallyParts() throws {
        let temp = try TemporaryDirectory("fs-parts")
        defer { temp.remove() }
        // Sizes around the gathering limits: empty, small runs that fill and overflow a 1 MiB gather, large parts.
        let sizes = [0, 10, 300 << 10, 5, 2 << 20, 200 << 10, 200 << 10, 200 << 10, 200 << 10, 200 << 10, 100, 0]
        let parts = sizes.enumerated().map { index, size in
            (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
        }
        var expected: [UInt8] = []
        for part in parts { expected.append(contentsOf: part) }
        try FileSystem.writeAtomically(temp.sub("joined"), parts: parts)
        #expect(try FileSystem.readFile(temp.sub("joined")) == expected)
        try FileSystem.writeAtomically(temp.sub("none"), parts: [])
        #expect(try FileSystem.readFile(temp.sub("none")).isEmpty)
        #expect(Set(try FileSystem.contentsOfDirectory(temp.path)) == ["joined", "none"], "no temporary file is left")
    }

    @Test func writeAtomicallyIntoMissingDirectoryFailsNamingIt() throws {
        let temp = try TemporaryDirectory("fs-atomic-missing")
        defer { temp.remove() }
        let path = temp.sub("no-such-dir/file")
        let error = #expect(throws: SystemError.self) {
            try [UInt8(1)].withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
        }
        #expect(error?.isNotFound == true)
        #expect(error?.description.contains(temp.sub("no-such-dir")) == true)
    }

    @Test func statusReportsKindsSizesAndModes() throws {
        let temp = try TemporaryDirectory("fs-status")
        defer { temp.remove() }
        let file = temp.sub("file")
        try Array(repeating: UInt8(7), count: 1234).withUnsafeBytes { try FileSystem.writeAtomically(file, bytes: $0) }
        try FileSystem.setMode(file, mode: 0o640)
        try FileSystem.makeDirectory(temp.sub("dir"))
        try FileSystem.makeSymlink(temp.sub("link"), target: "dir")
        #expect(mkfifo(temp.sub("fifo"), 0o600) == 0)

        let fileStatus = try FileSystem.status(file)
        #expect(fileStatus.kind == .regular)
        #expect(fileStatus.size == 1234)
        #expect(fileStatus.mode == 0o640)
        #expect(try FileSystem.status(temp.sub("dir")).kind == .directory)
        #expect(try FileSystem.status(temp.sub("link")).kind == .symlink, "lstat: a symlink is not followed")
        #expect(try FileSystem.readSymlink(temp.sub("link")) == "dir")
        #expect(try FileSystem.status(temp.sub("fifo")).kind == .other)
        #expect(try FileSystem.statusIfExists(temp.sub("missing")) == nil)
        let error = #expect(throws: SystemError.self) { try FileSystem.status(temp.sub("missing")) }
        #expect(error?.isNotFound == true)
    }

    @Test func makeDirectoriesCreatesParentsAndIsIdempotent() throws {
        let temp = try TemporaryDirectory("fs-mkdirs")
        defer { temp.remove() }
        let deep = temp.sub("a/b/c/d")
        try FileSystem.makeDirectories(deep)
        #expect(try FileSystem.status(deep).kind == .directory)
        try FileSystem.makeDirectories(deep)  // already there: fine
        try [UInt8]().withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("a/file"), bytes: $0) }
        #expect(throws: SystemError.self, "a regular file is in the way") {
            try FileSystem.makeDirectories(temp.sub("a/file/sub"))
        }
    }

    @Test func removeTreeRemovesEverythingButNeverFollowsSymlinks() throws {
        let temp = try TemporaryDirectory("fs-rmtree")
        defer { temp.remove() }
        let outside = temp.sub("outside")
        try FileSystem.makeDirectories(outside)
        try Array("keep".utf8).withUnsafeBytes { try FileSystem.writeAtomically(outside + "/precious", bytes: $0) }
        let tree = temp.sub("tree")
        try FileSystem.makeDirectories(tree + "/x/y/z")
        try Array("gone".utf8).withUnsafeBytes { try FileSystem.writeAtomically(tree + "/x/y/file", bytes: $0) }
        try FileSystem.makeSymlink(tree + "/x/link-out", target: outside)

        try FileSystem.removeTree(tree)
        #expect(try FileSystem.statusIfExists(tree) == nil)
        #expect(try FileSystem.readFile(outside + "/precious") == Array("keep".utf8))
        try FileSystem.removeTree(tree)  // a missing tree is not an error
    }

    @Test func contentsOfDirectoryIsSortedBytewiseWithoutDotEntries() throws {
        let temp = try TemporaryDirectory("fs-list")
        defer { temp.remove() }
        let names = ["b", "a", "B", "_x", "10", "9", ".hidden", "é"]
        for name in names {
            try [UInt8]().withUnsafeBytes { try FileSystem.writeAtomically(temp.sub(name), bytes: $0) }
        }
        #expect(try FileSystem.contentsOfDirectory(temp.path) == [".hidden", "10", "9", "B", "_x", "a", "b", "é"])
        #expect(throws: SystemError.self) { try FileSystem.contentsOfDirectory(temp.sub("missing")) }
    }

    @Test func pathHelpers() {
        #expect(Path.parent(of: "/a/b/c") == "/a/b")
        #expect(Path.parent(of: "/a") == "/")
        #expect(Path.parent(of: "a") == ".")
        #expect(Path.join("/a", "b") == "/a/b")
        #expect(Path.join("/a/", "b") == "/a/b")
        #expect(Path.join("/a", "") == "/a")
        let suffix = Path.randomSuffix()
        #expect(suffix.count == 16 && suffix.allSatisfy(\.isHexDigit))
        #expect(suffix != Path.randomSuffix())
    }
}
