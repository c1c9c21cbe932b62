import Foundation
import SystemIO
import TestSupport
import Testing

@testable import Collectors

@Suite("ustar writer")
struct TarWriterTests {
    /// Runs a tool and returns its exit status and standard output.
    static func run(_ tool: String, _ arguments: [String], in directory: String? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func write(
        _ entries: [(String, [UInt8])], to path: String, gzip: Bool = false, flushThreshold: Int = 1 << 20
    ) async throws -> Int64 {
        let file = try FileDescriptor.create(path)
        defer { file.close() }
        var writer = try TarWriter(file: file, gzip: gzip, flushThreshold: flushThreshold)
        for (name, contents) in entries {
            try await writer.append(
                path: name, contents: contents, modified: Date(timeIntervalSince1970: 1_700_000_000))
        }
        try await writer.finish()
        return writer.size
    }

    @Test("a gzip archive of several flushes (1 MiB of compressible and random data) reads back with gzip and tar")
    func gzipRoundTrip() async throws {
        let temp = try TemporaryDirectory("tar-writer-gzip")
        defer { temp.remove() }
        var random = SystemRandomNumberGenerator()
        let entries: [(String, [UInt8])] = [
            ("metadata/version", Array("1.1.0\n".utf8)),
            ("text.json", Array(String(repeating: #"{"kind":"ConfigMap","data":{"a":"b"}}"#, count: 20_000).utf8)),
            ("random.bin", (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }),
            ("empty", []),
        ]
        let archive = temp.sub("out.tar.gz")
        let size = try await Self.write(entries, to: archive, gzip: true, flushThreshold: 64 * 1024)
        let compressed = try FileSystem.readFile(archive)
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b])
        #expect(Int64(compressed.count) < size, "the text compresses")
        let (testStatus, _) = try Self.run("/bin/gzip", ["-t", archive])
        #expect(testStatus == 0, "gzip -t accepts the stream, CRC and length")
        let extracted = temp.sub("x")
        try FileSystem.makeDirectory(extracted)
        let (extractStatus, _) = try Self.run("/bin/tar", ["-xzf", archive, "-C", extracted])
        #expect(extractStatus == 0)
        for (name, contents) in entries {
            #expect(try FileSystem.readFile(extracted + "/" + name) == contents, "\(name)")
        }
    }

    @Test("entries, including one needing the prefix field, read back with tar byte for byte")
    func roundTrip() async throws {
        let temp = try TemporaryDirectory("tar-writer")
        defer { temp.remove() }
        let longDirectory = "resources/" + String(repeating: "d", count: 100) + ".example.com/namespaces/team-a"
        let longPath = longDirectory + "/" + String(repeating: "n", count: 90) + ".json"
        #expect(longPath.utf8.count > 100 && longPath.utf8.count <= 255)
        let entries: [(String, [UInt8])] = [
            ("metadata/version", Array("1".utf8)),
            ("resources/configmaps/namespaces/default/settings.json", Array(#"{"kind":"ConfigMap"}"#.utf8)),
            ("resources/namespaces/cluster/default.json", []),
            ("exactly-512", [UInt8](repeating: 0x41, count: 512)),
            (longPath, (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            ("binary.bin", (0...255).map { UInt8($0) }),
        ]
        let archive = temp.sub("out.tar")
        // A small threshold exercises several writes.
        let size = try await Self.write(entries, to: archive, flushThreshold: 1024)
        let bytes = try FileSystem.readFile(archive)
        #expect(Int64(bytes.count) == size)
        #expect(bytes.count % 512 == 0)
        #expect(bytes.suffix(1024).allSatisfy { $0 == 0 })
        #expect(Array(bytes[257..<263]) == Array("ustar\0".utf8) && Array(bytes[263..<265]) == Array("00".utf8))

        let (listStatus, listing) = try Self.run("/bin/tar", ["-tvf", archive])
        #expect(listStatus == 0)
        let lines = listing.split(separator: "\n").map(String.init)
        #expect(lines.count == entries.count)
        for ((name, contents), line) in zip(entries, lines) {
            #expect(line.hasSuffix(" " + name), "\(line)")
            #expect(line.hasPrefix("-rw-r--r--"), "\(line)")
            #expect(line.contains(" \(contents.count) "), "\(line)")
        }

        let extracted = temp.sub("x")
        try FileSystem.makeDirectory(extracted)
        let (extractStatus, _) = try Self.run("/bin/tar", ["-xf", archive, "-C", extracted])
        #expect(extractStatus == 0)
        for (name, contents) in entries {
            #expect(try FileSystem.readFile(extracted + "/" + name) == contents, "\(name)")
        }
    }

    @Test("split uses the prefix field only when the path needs it")
    func split() throws {
        let short = try TarWriter.split("a/b.json", object: "x")
        #expect(short.prefix.isEmpty && short.name == Array("a/b.json".utf8))
        let path =
            String(repeating: "p", count: 150) + "/" + String(repeating: "q", count: 30) + "/"
            + String(repeating: "r", count: 60)
        let long = try TarWriter.split(path, object: "x")
        #expect(long.prefix == Array((String(repeating: "p", count: 150)).utf8))
        #expect(long.name.count == 91)
    }

    @Test(
        "paths ustar cannot hold are refused with the object named",
        arguments: [
            String(repeating: "a", count: 101),  // no '/' to split at
            String(repeating: "a", count: 160) + "/" + String(repeating: "b", count: 50),  // prefix too long
            "a/" + String(repeating: "b", count: 101),  // name part too long
            String(repeating: "a/", count: 128) + "z",  // over 255 bytes
        ])
    func tooLong(path: String) async throws {
        let temp = try TemporaryDirectory("tar-writer-long")
        defer { temp.remove() }
        let file = try FileDescriptor.create(temp.sub("out.tar"))
        defer { file.close() }
        var writer = try TarWriter(file: file)
        let error = await #expect(throws: TarError.self) {
            try await writer.append(path: path, contents: [1, 2, 3], object: "configmaps team-a/huge")
        }
        let message = error?.description ?? ""
        #expect(message.contains("configmaps team-a/huge") && message.contains("ustar holds at most"), "\(message)")
        #expect(writer.entries == 0)
    }

    @Test("unsafe paths are refused", arguments: ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\0b"])
    func unsafe(path: String) throws {
        #expect(throws: TarError.self) {
            try TarWriter.header(path: path, size: 0, mode: 0o644, modified: 0, object: "x")
        }
    }

    @Test("the header checksum matches the byte sum with the field as spaces")
    func checksum() throws {
        let header = try TarWriter.header(path: "x.json", size: 1234, mode: 0o644, modified: 1_700_000_000, object: "x")
        #expect(header.count == 512)
        var blank = header
        for index in 148..<156 { blank[index] = UInt8(ascii: " ") }
        let sum = blank.reduce(0) { $0 + Int($1) }
        let field = String(decoding: header[148..<154], as: UTF8.self)
        #expect(Int(field, radix: 8) == sum)
        #expect(header[154] == 0 && header[155] == UInt8(ascii: " "))
        #expect(String(decoding: header[124..<135], as: UTF8.self) == "00000002322")
    }
}
