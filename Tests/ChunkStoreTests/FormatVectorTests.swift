import Testing

@testable import ChunkStore

/// The functions that define the store's format, pinned to values computed independently (Python's splitmix64 and
/// hashlib.scrypt), so a change to any of them fails here before it silently changes how stores are written.
@Suite("format-defining functions: golden vectors")
struct FormatVectorTests {
    @Test("the gear table is splitmix64 seeded with \"VELEROCA\"")
    func gearTable() {
        let table = GearTable.values
        #expect(table.count == 256)
        #expect(table[0] == 0xbeea_592f_f12d_3c97)
        #expect(table[1] == 0x73d7_2dbb_3e02_bfc2)
        #expect(table[2] == 0xf86f_7bba_6c72_16b1)
        #expect(table[255] == 0xc048_255c_b79b_c9a5)
        #expect(table.reduce(0, ^) == 0x80c5_5c35_adb5_28b5)
    }

    @Test("key derivation: the standard scrypt parameters and their output for a fixed password and salt")
    func keyDerivation() {
        #expect(StoreCrypto.ScryptParameters.standard == .init(n: 32768, r: 8, p: 1))
        let derived = StoreCrypto.scrypt(
            password: Array("velero-cas".utf8), salt: Array("golden-salt".utf8), parameters: .standard)
        #expect(derived.map(Digest.hex) == "ef9fd2d25db5d5b2d965c041dd4d6662169d51fb18c7308b1b7ce1ef94dd98ce")
    }

    @Test("sealed layout: nonce (12) ‖ ciphertext ‖ tag (16), 28 bytes over the plain size")
    func sealedLayout() {
        let key = [UInt8](repeating: 7, count: 32)
        let nonce = Array(0..<12).map(UInt8.init)
        let sealed = StoreCrypto.seal(Array("abc".utf8), key: key, associated: Array("k".utf8), nonce: nonce)
        #expect(sealed.count == 3 + 28)
        #expect(Array(sealed.prefix(12)) == nonce)
    }
}
