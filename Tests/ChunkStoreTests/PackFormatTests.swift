import ChunkStore
import Foundation
import TestSupport
import Testing

/// The pack and index formats, byte for byte, and the guarantees of sealed blobs.
@Suite("pack and index formats")
struct PackFormatTests {
    static func bytes(hex: String) -> [UInt8] { EncryptionTests.bytes(hex: hex) }

    static let idA = ChunkID(hex: String(repeating: "aa", count: 32))!
    static let idB = ChunkID(hex: (0..<32).map { String(format: "%02x", $0) }.joined())!

    @Test("a plain pack trailer is the documented layout (golden vector)")
    func trailerGoldenVector() {
        let trailer = PackLayout.trailer(
            kind: .metadata,
            entries: [PackEntry(id: Self.idA, offset: 0, length: 10), PackEntry(id: Self.idB, offset: 10, length: 7)],
            key: nil, salt: Array(0..<16))
        // "VCPK", version 1, kind 1 (metadata), 2 zero bytes, count 2, salt 00…0f, two entries, header length 108.
        let expected =
            "5643504b0101000002000000000102030405060708090a0b0c0d0e0f"
            + String(repeating: "aa", count: 32) + "000000000a000000"
            + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + "0a00000007000000" + "6c000000"
        #expect(trailer == Self.bytes(hex: expected))
        // The pack's name is the SHA-256 of the trailer (computed independently with Python's hashlib).
        #expect(
            PackLayout.name(trailer: trailer).hex == "588edfba3f7dc83e601e33684a3669620c14b0ce4f87bd855f5f4aec9b0ade2e")
        let length = PackLayout.headerLength(fromLastFour: Array(trailer.suffix(4)))
        #expect(length == 108)
        let parsed = try? PackLayout.parseHeader(Array(trailer.prefix(108)), key: nil, blobBytes: 17, pack: "p")
        #expect(parsed?.kind == .metadata)
        #expect(parsed?.entries.map(\.id) == [Self.idA, Self.idB])
        // An entry that claims bytes beyond the blobs is refused.
        #expect(throws: ChunkStoreError.self) {
            _ = try PackLayout.parseHeader(Array(trailer.prefix(108)), key: nil, blobBytes: 16, pack: "p")
        }
    }

    @Test(
        "a pack's name holds for its trailer hash or (older packs) its whole hash, and breaks when its header changes")
    func packNames() {
        let blobs: [[UInt8]] = [Array(repeating: 7, count: 10), Array(repeating: 9, count: 7)]
        let trailer = PackLayout.trailer(
            kind: .data,
            entries: [PackEntry(id: Self.idA, offset: 0, length: 10), PackEntry(id: Self.idB, offset: 10, length: 7)],
            key: nil)
        let pack = blobs.flatMap { $0 } + trailer
        #expect(PackLayout.nameMatches(PackLayout.name(trailer: trailer), bytes: pack))
        #expect(PackLayout.nameMatches(PackID(hashing: pack), bytes: pack), "a pack named before trailer names")
        var changed = pack
        changed[changed.count - 20] ^= 1
        #expect(!PackLayout.nameMatches(PackLayout.name(trailer: trailer), bytes: changed))
        #expect(!PackLayout.nameMatches(PackID(hashing: pack), bytes: changed))
        #expect(!PackLayout.nameMatches(PackLayout.name(trailer: trailer), bytes: Array(pack.prefix(3))))
    }

    @Test("an index object is the documented layout (golden vector) and round trips")
    func indexGoldenVector() throws {
        let pack = PackID(ChunkID(hex: String(repeating: "11", count: 32))!)
        let described = [
            IndexFile.Pack(id: pack, kind: .data, size: 1000, entries: [PackEntry(id: Self.idB, offset: 3, length: 9)])
        ]
        let expected =
            "564349580100000001000000" + String(repeating: "11", count: 32) + "00000000" + "e803000001000000"
            + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + "0300000009000000"
        #expect(IndexFile.encode(described) == Self.bytes(hex: expected))
        #expect(try IndexFile.decode(IndexFile.encode(described), key: "index/x") == described)
        var truncated = IndexFile.encode(described)
        truncated.removeLast()
        #expect(throws: ChunkStoreError.self) { _ = try IndexFile.decode(truncated, key: "index/x") }
        #expect(IndexFile.isIndexKey(IndexFile.newKey()))
        #expect(!IndexFile.isIndexKey("index/zz"))
    }

    @Test("a sealed blob opens only under its own chunk id and only unchanged")
    func blobsAreBoundToTheirID() {
        let master = MasterKey.generate()
        let encoded = ChunkCodec.encode(Array("some chunk".utf8))
        let sealed = PackLayout.sealBlob(encoded, id: Self.idA, key: master.encryption)
        #expect(sealed != encoded, "sealed bytes are not the plain codec bytes")
        #expect(PackLayout.openBlob(sealed, id: Self.idA, key: master.encryption) == encoded)
        #expect(PackLayout.openBlob(sealed, id: Self.idB, key: master.encryption) == nil, "another id's entry")
        var flipped = sealed
        flipped[flipped.count / 2] ^= 1
        #expect(PackLayout.openBlob(flipped, id: Self.idA, key: master.encryption) == nil)
        // Every pack gets a salt of its own, so two packs of the same blobs have different names.
        let one = PackLayout.trailer(kind: .data, entries: [], key: nil)
        let two = PackLayout.trailer(kind: .data, entries: [], key: nil)
        #expect(one != two)
    }

    @Test("pack keys name the pack they hold and nothing else")
    func packKeys() {
        let pack = PackID(Self.idB)
        #expect(pack.key == "packs/00/" + Self.idB.hex)
        #expect(PackLayout.pack(fromKey: pack.key) == pack)
        #expect(PackLayout.pack(fromKey: "packs/01/" + Self.idB.hex) == nil)
        #expect(PackLayout.pack(fromKey: "index/" + Self.idB.hex) == nil)
    }
}
