import Glibc
import SystemIO
import TestSupport
import Testing

@Suite("Names as bytes and directory-relative calls")
struct RawPathTests {
    static let odd: [UInt8] = [0x61, 0xFF, 0x62]  // "a\xffb", not UTF-8

    @Test func namesStayBytesAndRemoveTreeRemovesThem() throws {
        let temp = try TemporaryDirectory("raw-names")
        defer { temp.remove() }
        let directory = try FileDescriptor.openDirectoryNoFollow(temp.path)
        defer { directory.close() }
        try directory.createFile(at: Self.odd).close()
        try directory.makeDirectory(at: [0xC3])
        #expect(try FileSystem.names(inDirectory: Array(temp.path.utf8)) == [Self.odd, [0xC3]])
        #expect(try directory.names() == [Self.odd, [0xC3]])
        #expect(try FileSystem.status(bytes: Array(temp.path.utf8) + [0x2F] + Self.odd).kind == .regular)
        #expect(try FileSystem.contentsOfDirectory(temp.path) == ["a\u{FFFD}b", "\u{FFFD}"], "the String form repairs")
        #expect(Path.display(Self.odd) == "a\\xffb")
        #expect(Path.display(Array("é/x".utf8)) == "é/x")

        let tree = temp.sub("tree")
        try FileSystem.makeDirectories(tree)
        let inner = try FileDescriptor.openDirectoryNoFollow(tree)
        try inner.createFile(at: Self.odd).close()
        inner.close()
        try FileSystem.removeTree(tree)
        #expect(try FileSystem.statusIfExists(tree) == nil)
    }

    @Test func relativeCallsNeverFollowSymlinks() throws {
        let temp = try TemporaryDirectory("raw-nofollow")
        defer { temp.remove() }
        let outside = temp.sub("outside")
        try FileSystem.makeDirectories(outside)
        try Array("keep".utf8).withUnsafeBytes { try FileSystem.writeAtomically(outside + "/f", bytes: $0) }
        let inside = temp.sub("inside")
        try FileSystem.makeDirectories(inside)
        try FileSystem.makeSymlink(inside + "/dir", target: outside)
        try FileSystem.makeSymlink(inside + "/file", target: outside + "/f")
        let directory = try FileDescriptor.openDirectoryNoFollow(inside)
        defer { directory.close() }

        let open = #expect(throws: SystemError.self) { try directory.openDirectory(at: Array("dir".utf8)) }
        #expect(open?.isSymlinkOrNotDirectory == true)
        let write = #expect(throws: SystemError.self) { try directory.openForWriting(at: Array("file".utf8)) }
        #expect(write?.isSymlinkOrNotDirectory == true)
        #expect(throws: SystemError.self) { try directory.createFile(at: Array("file".utf8)) }
        #expect(try directory.makeDirectory(at: Array("dir".utf8)) == false, "something is there already")
        #expect(try directory.status(at: Array("dir".utf8))?.kind == .symlink)
        #expect(try directory.status(at: Array("missing".utf8)) == nil)
        #expect(throws: SystemError.self) { try directory.openDirectory(at: Array("a/b".utf8)) }
        #expect(throws: SystemError.self) { try FileDescriptor.openDirectoryNoFollow(inside + "/dir") }
        #expect(try FileSystem.readFile(outside + "/f") == Array("keep".utf8))
    }

    @Test func ownerModeTimesAndAttributesAreSetOnTheDescriptor() throws {
        let temp = try TemporaryDirectory("raw-metadata")
        defer { temp.remove() }
        let directory = try FileDescriptor.openDirectoryNoFollow(temp.path)
        defer { directory.close() }
        let file = try directory.createFile(at: Array("f".utf8))
        let attribute = ExtendedAttribute(name: Array("user.note".utf8), value: [1, 0, 2])
        try file.setExtendedAttribute(attribute)
        if ProcessIdentity.isRoot { try file.setOwner(owner: 1234, group: 5678) }
        try file.setMode(0o4711)
        try file.setModificationTime(seconds: 1_600_000_000, nanoseconds: 123)
        file.close()
        let status = try FileSystem.status(temp.sub("f"))
        #expect(status.mode == 0o4711)
        #expect(status.modificationSeconds == 1_600_000_000 && status.modificationNanoseconds == 123)
        if ProcessIdentity.isRoot { #expect(status.owner == 1234 && status.group == 5678) }
        #expect(try FileSystem.extendedAttributes(bytes: Array(temp.sub("f").utf8)) == [attribute])

        try directory.makeSymlink(at: Array("link".utf8), target: RawPathTests.odd)
        #expect(try FileSystem.readSymlink(bytes: Array(temp.sub("link").utf8)) == RawPathTests.odd)
        try directory.setModificationTime(at: Array("link".utf8), seconds: 1_500_000_000, nanoseconds: 0)
        #expect(try FileSystem.status(temp.sub("link")).modificationSeconds == 1_500_000_000)
        if ProcessIdentity.isRoot {
            try directory.setOwner(at: Array("link".utf8), owner: 42, group: 43)
            #expect(try FileSystem.status(temp.sub("link")).owner == 42)
            // Privileged namespaces may sit on a symlink; set on the link itself, not on what it points to.
            let trusted = ExtendedAttribute(name: Array("trusted.velero-cas-test".utf8), value: [9])
            try directory.setExtendedAttribute(at: Array("link".utf8), trusted)
            #expect(try FileSystem.extendedAttributes(bytes: Array(temp.sub("link").utf8)) == [trusted])
        }
    }
}
