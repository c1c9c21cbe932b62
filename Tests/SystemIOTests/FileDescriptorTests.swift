import SystemIO
import TestSupport
import Testing

@Suite("FileDescriptor")
struct FileDescriptorTests {
    private static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try FileDescriptor.create(path)
        defer { file.close() }
        try bytes.withUnsafeBytes { try file.write($0) }
    }

    @Test(arguments: [0, 1, 4095, 4096, 65_537, 300_001])
    func readToEndReturnsWholeFile(size: Int) throws {
        let temp = try TemporaryDirectory("fd-read")
        defer { temp.remove() }
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        try Self.write(bytes, to: temp.sub("f"))
        let file = try FileDescriptor.openForReading(temp.sub("f"))
        defer { file.close() }
        let read = try file.readToEnd()
        #expect(read.count == bytes.count && read == bytes, "read \(read.count) of \(bytes.count) bytes")
    }

    @Test func readToEndReadsPastAZeroStatSize() throws {
        // /proc files report size 0 but have content; the read loop must not trust fstat.
        let file = try FileDescriptor.openForReading("/proc/self/status")
        defer { file.close() }
        let text = String(decoding: try file.readToEnd(), as: UTF8.self)
        #expect(text.contains("Name:"))
        #expect(text.contains("VmPeak") || text.contains("Threads:"))
    }

    @Test func positionalWritesTruncateAndSync() throws {
        let temp = try TemporaryDirectory("fd-pwrite")
        defer { temp.remove() }
        let path = temp.sub("f")
        let file = try FileDescriptor.create(path, mode: 0o600, exclusive: true)
        try file.truncate(to: 10)
        try Array("xyz".utf8).withUnsafeBytes { try file.write($0, at: 7) }
        try Array("ab".utf8).withUnsafeBytes { try file.write($0, at: 0) }
        try file.sync()
        file.close()
        #expect(try FileSystem.readFile(path) == Array("ab".utf8) + [0, 0, 0, 0, 0] + Array("xyz".utf8))
        #expect(try FileSystem.status(path).mode == 0o600)
        let error = #expect(throws: SystemError.self, "exclusive create of an existing file") {
            try FileDescriptor.create(path, exclusive: true)
        }
        #expect(error?.description.contains(path) == true)
    }

    @Test func openForReadingRefusesASymlink() throws {
        let temp = try TemporaryDirectory("fd-nofollow")
        defer { temp.remove() }
        try Self.write([1, 2, 3], to: temp.sub("real"))
        try FileSystem.makeSymlink(temp.sub("link"), target: temp.sub("real"))
        #expect(throws: SystemError.self) { try FileDescriptor.openForReading(temp.sub("link")) }
        #expect(throws: SystemError.self) { try FileDescriptor.openForWriting(temp.sub("link")) }
    }
}
