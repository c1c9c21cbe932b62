import ChunkStore
import Foundation
import Testing

@Suite("Chunk ids")
struct ChunkIDTests {
    @Test func knownSHA256Vectors() {
        #expect(
            ChunkID(hashing: Array("abc".utf8)).hex
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            ChunkID(hashing: [UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Digest.hex(Digest.sha256(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hmacSHA256MatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test(arguments: [0, 1, 31, 4096])
    func hexRoundTrips(seed: Int) throws {
        let id = ChunkID(hashing: TestData.random(count: 100 + seed, seed: UInt64(seed)))
        #expect(id.hex.count == 64)
        #expect(id.hex == id.hex.lowercased())
        #expect(ChunkID(hex: id.hex) == id)
        #expect(ChunkID(hex: id.hex.uppercased()) == id)
        #expect(ChunkID(hex: id.hex)?.hex == id.hex)
        let json = try JSONEncoder().encode([id])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(id.hex)\"]")
        #expect(try JSONDecoder().decode([ChunkID].self, from: json) == [id])
    }

    @Test(arguments: [
        "", "abc", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "g", count: 64), String(repeating: "a", count: 62) + " a", String(repeating: "é", count: 32),
    ])
    func invalidHexIsRejected(text: String) {
        #expect(ChunkID(hex: text) == nil)
    }

    @Test func invalidJSONIdIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ChunkID].self, from: Data("[\"zz\"]".utf8)) }
    }

    @Test func equalityAndOrderFollowTheBytes() {
        let a = ChunkID(hex: "00" + String(repeating: "f", count: 62))!
        let b = ChunkID(hex: "01" + String(repeating: "0", count: 62))!
        let c = ChunkID(hex: String(repeating: "0", count: 63) + "1")!
        #expect(a < b)
        #expect(c < a)
        #expect(a != c)
        #expect(Set([a, b, c, ChunkID(hex: a.hex)!]).count == 3)
    }
}
