import Glibc
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// Restores are faithful (names as bytes, owners, extended attributes, set-id bits only with their owner) and safe
/// (a symlink that appears during the restore is never followed).
@Suite("Restore fidelity and safety")
struct RestoreFidelityTests {
    /// "f\xff\xfe.bin": not UTF-8; `String(cString:)` would turn it into another name.
    static let oddFile: [UInt8] = [0x66, 0xFF, 0xFE, 0x2E, 0x62, 0x69, 0x6E]
    /// "d\xe9" (Latin-1 "dé"), a directory.
    static let oddDirectory: [UInt8] = [0x64, 0xE9]
    static let slash = UInt8(ascii: "/")

    private static func write(_ bytes: [UInt8], in directory: String, name: [UInt8], mode: mode_t = 0o644) throws {
        let parent = try FileDescriptor.openDirectoryNoFollow(directory)
        defer { parent.close() }
        let file = try parent.createFile(at: name, mode: mode)
        defer { file.close() }
        try bytes.withUnsafeBytes { try file.write($0) }
    }

    private static func backupAndRestore(
        _ source: String, temp: TemporaryDirectory, restoreOwners: Bool = ProcessIdentity.isRoot
    ) async throws -> (Repository, String) {
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeBackup(repository: repository).run(source: source, name: "snap")
        let target = temp.sub("restore")
        _ = try await TreeRestore(repository: repository, restoreOwners: restoreOwners).run(
            snapshot: "snap", into: target)
        return (repository, target)
    }

    @Test func nonUTF8NamesRoundTripByteExactly() async throws {
        let temp = try TemporaryDirectory("fidelity-names")
        defer { temp.remove() }
        let source = temp.sub("source")
        try FileSystem.makeDirectories(source)
        try Self.write(Array("odd file".utf8), in: source, name: Self.oddFile)
        try Self.write(Array("inside".utf8), in: source, name: Array("x".utf8))
        let sourceDirectory = try FileDescriptor.openDirectoryNoFollow(source)
        try sourceDirectory.makeDirectory(at: Self.oddDirectory, mode: 0o755)
        try sourceDirectory.makeSymlink(at: Array("link".utf8), target: Self.oddFile)
        let inner = try sourceDirectory.openDirectory(at: Self.oddDirectory)
        let nestedFile = try inner.createFile(at: Self.oddFile, mode: 0o640)
        try Array("nested".utf8).withUnsafeBytes { try nestedFile.write($0) }
        nestedFile.close()
        inner.close()
        sourceDirectory.close()
        let nested = Self.oddDirectory + [Self.slash] + Self.oddFile

        let (repository, target) = try await Self.backupAndRestore(source, temp: temp)
        let snapshot = try #require(try await SnapshotCatalog(repository: repository).snapshot(named: "snap"))
        #expect(snapshot.summary.files == 3)
        #expect(snapshot.summary.directories == 1)
        let entries = try TreeManifest.decode(try await repository.readBlob(snapshot.manifest), key: "snap")
        #expect(Set(entries.map(\.rawPath)) == [Self.oddFile, Self.oddDirectory, nested, Array("link".utf8), [0x78]])
        let odd = try #require(entries.first { $0.rawPath == Self.oddFile })
        #expect(odd.pathBytes?.bytes == Self.oddFile, "kept exactly, beside a readable form")
        #expect(odd.path == "f\\xff\\xfe.bin")
        let plain = try #require(entries.first { $0.rawPath == [0x78] })
        #expect(plain.pathBytes == nil && plain.path == "x", "a UTF-8 name is stored as before")

        #expect(
            try FileSystem.names(inDirectory: Array(target.utf8)) == FileSystem.names(inDirectory: Array(source.utf8)))
        #expect(try FileSystem.readFile(target + "/x") == Array("inside".utf8))
        let restoredFile = try FileDescriptor.openForReading(bytes: Array(target.utf8) + [Self.slash] + Self.oddFile)
        defer { restoredFile.close() }
        #expect(try restoredFile.readToEnd() == Array("odd file".utf8))
        #expect(try FileSystem.status(bytes: Array(target.utf8) + [Self.slash] + Self.oddDirectory).kind == .directory)
        let restoredNested = try FileDescriptor.openForReading(bytes: Array(target.utf8) + [Self.slash] + nested)
        defer { restoredNested.close() }
        #expect(try restoredNested.readToEnd() == Array("nested".utf8))
        #expect(try FileSystem.status(bytes: Array(target.utf8) + [Self.slash] + nested).mode == 0o640)
        #expect(try FileSystem.readSymlink(bytes: Array((target + "/link").utf8)) == Self.oddFile)
    }

    @Test(.enabled(if: ProcessIdentity.isRoot, "chown needs root")) func ownersRoundTripWhenRunningAsRoot() async throws
    {
        let temp = try TemporaryDirectory("fidelity-owners")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        try FileSystem.makeSymlink(source + "/link", target: "a.txt")
        #expect(chown(source + "/a.txt", 1234, 5678) == 0)
        #expect(chown(source + "/sub", 4321, 8765) == 0)
        #expect(lchown(source + "/link", 1111, 2222) == 0)
        try FileSystem.setMode(source + "/a.txt", mode: 0o4750)  // setuid, kept with its owner

        let (_, target) = try await Self.backupAndRestore(source, temp: temp, restoreOwners: true)
        let file = try FileSystem.status(target + "/a.txt")
        #expect(file.owner == 1234 && file.group == 5678)
        #expect(file.mode == 0o4750, "set-id bits come back together with their owner")
        let directory = try FileSystem.status(target + "/sub")
        #expect(directory.owner == 4321 && directory.group == 8765)
        let link = try FileSystem.status(target + "/link")
        #expect(link.kind == .symlink && link.owner == 1111 && link.group == 2222)
        #expect(try FileSystem.status(target + "/sub/b.bin").owner == 0)
    }

    @Test func extendedAttributesRoundTrip() async throws {
        let temp = try TemporaryDirectory("fidelity-xattrs")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        let fileAttributes = [
            ExtendedAttribute(name: Array("user.binary".utf8), value: [0, 0xFF, 1, 0x80]),
            ExtendedAttribute(name: Array("user.comment".utf8), value: Array("hello".utf8)),
            ExtendedAttribute(name: Array("user.empty".utf8), value: []),
        ]
        let directoryAttributes = [ExtendedAttribute(name: Array("user.team".utf8), value: Array("storage".utf8))]
        let file = try FileDescriptor.openForWriting(source + "/a.txt")
        for attribute in fileAttributes { try file.setExtendedAttribute(attribute) }
        file.close()
        let directory = try FileDescriptor.openDirectoryNoFollow(source + "/sub")
        for attribute in directoryAttributes { try directory.setExtendedAttribute(attribute) }
        directory.close()
        #expect(try FileSystem.extendedAttributes(bytes: Array((source + "/a.txt").utf8)) == fileAttributes)

        let (_, target) = try await Self.backupAndRestore(source, temp: temp)
        #expect(try FileSystem.extendedAttributes(bytes: Array((target + "/a.txt").utf8)) == fileAttributes)
        #expect(try FileSystem.extendedAttributes(bytes: Array((target + "/sub").utf8)) == directoryAttributes)
        #expect(try FileSystem.extendedAttributes(bytes: Array((target + "/sub/b.bin").utf8)).isEmpty)
        #expect(try await TreeFixtures.differences(source, target) == [])
    }

    /// After `prepare` made the directories, something replaces one (or a file) with a symlink to a directory
    /// outside the target that holds a file of the same name. The restore must neither write nor chmod there.
    @Test(arguments: [false, true])
    func symlinkSwappedInDuringTheRestoreIsNotFollowed(swapFile: Bool) async throws {
        let temp = try TemporaryDirectory("fidelity-swap")
        defer { temp.remove() }
        let source = temp.sub("source")
        try FileSystem.makeDirectories(source + "/sub")
        try Array("restored data".utf8).withUnsafeBytes { try FileSystem.writeAtomically(source + "/sub/f", bytes: $0) }
        try FileSystem.setMode(source + "/sub/f", mode: 0o600)
        try FileSystem.setMode(source + "/sub", mode: 0o700)
        let outside = temp.sub("outside")
        try FileSystem.makeDirectories(outside)
        try Array("precious".utf8).withUnsafeBytes { try FileSystem.writeAtomically(outside + "/f", bytes: $0) }
        try FileSystem.setMode(outside + "/f", mode: 0o644)
        try FileSystem.setMode(outside, mode: 0o755)
        let before = try FileSystem.status(outside + "/f")

        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeBackup(repository: repository).run(source: source, name: "snap")
        let target = temp.sub("target")
        var restore = TreeRestore(repository: repository)
        restore.afterPrepare = {
            if swapFile {
                try FileSystem.removeFile(target + "/sub/f")
                try FileSystem.makeSymlink(target + "/sub/f", target: outside + "/f")
            } else {
                try FileSystem.rename(target + "/sub", to: target + "/sub-moved")
                try FileSystem.makeSymlink(target + "/sub", target: outside)
            }
        }
        let error = await #expect(throws: ChunkStoreError.self) {
            try await restore.run(snapshot: "snap", into: target)
        }
        #expect(try FileSystem.readFile(outside + "/f") == Array("precious".utf8), "nothing was written outside")
        #expect(try FileSystem.contentsOfDirectory(outside) == ["f"])
        let after = try FileSystem.status(outside + "/f")
        #expect(after.mode == 0o644 && after.modificationSeconds == before.modificationSeconds)
        #expect(try FileSystem.status(outside).mode == 0o755, "no chmod went through the symlink")
        guard case .unsafeManifestPath(let path, let reason)? = error else {
            Issue.record("expected unsafeManifestPath, got \(String(describing: error))")
            return
        }
        #expect(path == "sub/f")
        #expect(reason.contains("symlink"), "\(reason)")
    }

    @Test func setIDBitsAreStrippedWhenOwnersAreNotRestored() async throws {
        let temp = try TemporaryDirectory("fidelity-setid")
        defer { temp.remove() }
        let source = temp.sub("source")
        try TreeFixtures.smallTree(at: source)
        if ProcessIdentity.isRoot { #expect(chown(source + "/a.txt", 1234, 5678) == 0) }
        try FileSystem.setMode(source + "/a.txt", mode: 0o6755)
        try FileSystem.setMode(source + "/sub", mode: 0o3775)  // setgid and sticky

        let (_, target) = try await Self.backupAndRestore(source, temp: temp, restoreOwners: false)
        let file = try FileSystem.status(target + "/a.txt")
        #expect(file.mode == 0o755, "setuid/setgid are cleared without their owner")
        #expect(file.owner == geteuid(), "the owner was not restored")
        #expect(try FileSystem.status(target + "/sub").mode == 0o1775, "setgid cleared, sticky kept")
    }

    @Test func setIDBitsAreStrippedForAnEntryWithoutOwner() async throws {
        // A manifest written before owners were recorded: even as root, no owner means no set-id bits.
        let temp = try TemporaryDirectory("fidelity-old-manifest")
        defer { temp.remove() }
        let line =
            #"{"ctime":0,"ctimeNanoseconds":0,"inode":0,"kind":"file","mode":2541,"mtime":1700000000,"#
            + #""mtimeNanoseconds":0,"path":"tool","size":0,"chunks":[]}"#
        let entries = try TreeManifest.decode(Array(line.utf8), key: "old")
        #expect(entries.count == 1 && entries[0].uid == nil && entries[0].xattrs == nil && entries[0].mode == 0o4755)
        let target = temp.sub("target")
        let repository = try await TreeFixtures.repository(at: temp.sub("store"))
        _ = try await TreeRestore(repository: repository, restoreOwners: true).restore(
            entries: entries, into: target, overwrite: false, started: .now)
        #expect(try FileSystem.status(target + "/tool").mode == 0o755)
    }

    @Test func byteNamesAndAttributesSurviveTheManifestEncoding() throws {
        var entry = TreeEntry(
            path: "", kind: .symlink, mode: 0o777, size: 0, mtime: 1, mtimeNanoseconds: 2, ctime: 3,
            ctimeNanoseconds: 4, inode: 5, target: nil, chunks: nil, uid: 7, gid: 8,
            xattrs: [TreeEntry.Attribute(name: [0x75, 0x73, 0x65, 0x72, 0x2E, 0xFF], value: [0, 1])])
        entry.rawPath = Self.oddDirectory + [Self.slash] + Self.oddFile
        entry.rawTarget = [0x2E, 0x2E, Self.slash, 0xFE]
        let encoded = try TreeManifest.encode([entry])
        let decoded = try TreeManifest.decode(encoded, key: "k")
        #expect(decoded == [entry])
        #expect(decoded[0].rawPath == Self.oddDirectory + [Self.slash] + Self.oddFile)
        #expect(decoded[0].rawTarget == [0x2E, 0x2E, Self.slash, 0xFE])
        #expect(decoded[0].xattrs?[0].rawName == [0x75, 0x73, 0x65, 0x72, 0x2E, 0xFF])
        try ManifestPath.validate(decoded[0].rawPath)

        // The bytes, not the readable form, are what is checked: a harmless `path` cannot hide a `..`.
        var hostile = entry
        hostile.path = "harmless"
        hostile.pathBytes = Base64Bytes([0x2E, 0x2E, Self.slash, 0xFF])
        #expect(throws: ChunkStoreError.self) { try TreeRestore.validate([hostile]) }
    }
}
