import ChunkStore
import Testing

@Suite("Chunk codec")
struct ChunkCodecTests {
    @Test func compressibleTextUsesLZ4AndRoundTrips() throws {
        let plain = TestData.text(count: 100_000)
        let stored = ChunkCodec.encode(plain)
        #expect(ChunkCodec.codec(of: stored) == .lz4)
        #expect(stored.count < plain.count / 2, "text should shrink well, got \(stored.count) of \(plain.count)")
        #expect(Array(stored[0..<2]) == Array("VC".utf8))
        let decoded = try ChunkCodec.decode(stored, id: ChunkID(hashing: plain), key: "chunks/x")
        #expect(decoded.count == plain.count && decoded == plain, "decoding gives back the plain bytes")
    }

    @Test func incompressibleDataIsStoredRaw() throws {
        let plain = TestData.random(count: 65_536, seed: 5)
        let stored = ChunkCodec.encode(plain)
        #expect(ChunkCodec.codec(of: stored) == .raw)
        #expect(stored.count == plain.count + ChunkCodec.headerSize)
        #expect(stored[ChunkCodec.headerSize...].elementsEqual(plain), "the raw body is the plain bytes")
        let decoded = try ChunkCodec.decode(stored, id: ChunkID(hashing: plain), key: "chunks/y")
        #expect(decoded.count == plain.count && decoded == plain, "decoding gives back the plain bytes")
    }

    @Test func emptyInputRoundTrips() throws {
        let stored = ChunkCodec.encode([UInt8]())
        #expect(stored.count == ChunkCodec.headerSize)
        #expect(ChunkCodec.codec(of: stored) == .raw)
        #expect(try ChunkCodec.decode(stored, id: ChunkID(hashing: [UInt8]()), key: "chunks/e") == [])
    }

    @Test func codecOfRejectsForeignHeaders() {
        #expect(ChunkCodec.codec(of: []) == nil)
        #expect(ChunkCodec.codec(of: Array("VC".utf8)) == nil)
        var stored = ChunkCodec.encode(TestData.text(count: 1000))
        stored[2] = 99  // unknown format version
        #expect(ChunkCodec.codec(of: stored) == nil)
        stored[2] = 1
        stored[3] = 7  // unknown codec
        #expect(ChunkCodec.codec(of: stored) == nil)
    }

    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flipBodyByte, flipLastByte, truncate, truncateToPartialHeader, badMagic, badVersion, wrongLength, wrongID
        var testDescription: String { rawValue }
    }

    /// A stored chunk with `damage` done to it, the id it is checked against, and its plain length.
    static func damaged(_ damage: Damage, compressible: Bool) -> (stored: [UInt8], id: ChunkID, length: Int) {
        let plain = compressible ? TestData.text(count: 20_000) : TestData.random(count: 20_000, seed: 8)
        var stored = ChunkCodec.encode(plain)
        var id = ChunkID(hashing: plain)
        switch damage {
        case .flipBodyByte: stored[ChunkCodec.headerSize + stored.count / 3] ^= 0x20
        case .flipLastByte: stored[stored.count - 1] ^= 0x01
        case .truncate: stored.removeLast(stored.count / 4)
        case .truncateToPartialHeader: stored.removeLast(stored.count - 5)
        case .badMagic: stored[0] = UInt8(ascii: "X")
        case .badVersion: stored[2] = 2
        case .wrongLength: stored[4] ^= 0x01
        case .wrongID: id = ChunkID(hashing: Array("something else".utf8))
        }
        return (stored, id, plain.count)
    }

    @Test(arguments: Damage.allCases, [true, false])
    func damageIsReportedAsCorruptChunkNamingIdAndKey(damage: Damage, compressible: Bool) {
        let (stored, id, _) = Self.damaged(damage, compressible: compressible)
        let key = "chunks/\(id.hex.prefix(2))/\(id.hex)"
        let error = #expect(throws: ChunkStoreError.self) { try ChunkCodec.decode(stored, id: id, key: key) }
        guard case .corruptChunk(let reportedID, let reportedKey, let reason)? = error else {
            Issue.record("expected corruptChunk, got \(String(describing: error))")
            return
        }
        #expect(reportedID == id)
        #expect(reportedKey == key)
        #expect(!reason.isEmpty)
        let message = error?.description ?? ""
        #expect(message.contains(id.hex) && message.contains(key), "message should name the chunk: \(message)")
    }

    /// A restore decodes where the bytes will be written, into a buffer of the length its manifest gives: the same
    /// damage is found there, and so is a length that is not the manifest's.
    @Test(arguments: Damage.allCases, [true, false])
    func decodingIntoABufferFindsTheSameDamage(damage: Damage, compressible: Bool) {
        let (stored, id, length) = Self.damaged(damage, compressible: compressible)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 16)
        defer { buffer.deallocate() }
        let error = #expect(throws: ChunkStoreError.self) {
            try stored.withUnsafeBytes { try ChunkCodec.decode($0, id: id, key: "packs/p", into: buffer) }
        }
        guard case .corruptChunk(let reportedID, "packs/p", _)? = error else {
            Issue.record("expected corruptChunk, got \(String(describing: error))")
            return
        }
        #expect(reportedID == id)
    }

    @Test(arguments: [true, false])
    func decodingIntoABufferOfTheRightLengthGivesThePlainBytes(compressible: Bool) throws {
        let plain = compressible ? TestData.text(count: 50_000) : TestData.random(count: 50_000, seed: 4)
        let stored = ChunkCodec.encode(plain)
        let id = ChunkID(hashing: plain)
        var decoded = [UInt8](repeating: 0, count: plain.count)
        let length = try decoded.withUnsafeMutableBytes { buffer in
            try stored.withUnsafeBytes { try ChunkCodec.decode($0, id: id, key: "packs/p", into: buffer) }
        }
        #expect(length == plain.count && decoded == plain)
        for wrong in [plain.count - 1, plain.count + 1] {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: wrong, alignment: 16)
            defer { buffer.deallocate() }
            #expect(throws: ChunkStoreError.self, "a buffer of \(wrong) bytes for \(plain.count)") {
                try stored.withUnsafeBytes { try ChunkCodec.decode($0, id: id, key: "packs/p", into: buffer) }
            }
        }
    }
}
