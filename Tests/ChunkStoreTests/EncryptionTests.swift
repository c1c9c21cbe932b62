import ChunkStore
import Foundation
import SystemIO
import TestSupport
import Testing

/// Encryption at rest: the primitives against published vectors, and a store whose bytes say nothing.
@Suite("encryption at rest")
struct EncryptionTests {
    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static let cheap = StoreCrypto.ScryptParameters(n: 1024, r: 8, p: 1)

    @Test("AES-256-GCM matches the GCM specification's test cases 13 and 14 (zero key and nonce)")
    func aesGCMVectors() {
        let key = [UInt8](repeating: 0, count: 32)
        let nonce = [UInt8](repeating: 0, count: 12)
        let empty = StoreCrypto.seal([], key: key, associated: [], nonce: nonce)
        #expect(Digest.hex(Array(empty[12...])) == "530f8afbc74536b9a963b4f1c4cb738b")
        let block = StoreCrypto.seal([UInt8](repeating: 0, count: 16), key: key, associated: [], nonce: nonce)
        #expect(Digest.hex(Array(block[12..<28])) == "cea7403d4d606b6e074ec5d3baf39d18")
        #expect(Digest.hex(Array(block[28...])) == "d0d1c8a799996bf0265b98b5d48ab919")
        #expect(StoreCrypto.open(block, key: key, associated: []) == [UInt8](repeating: 0, count: 16))
    }

    @Test("sealed bytes open only with the same key and associated data, and not after any byte changes")
    func sealing() {
        let key = StoreCrypto.random(32)
        let plain = Array("apiVersion: v1\nkind: Secret\ndata: {password: aHVudGVyMg==}".utf8)
        let sealed = StoreCrypto.seal(plain, key: key, associated: Array("backups/a.json".utf8))
        #expect(StoreCrypto.open(sealed, key: key, associated: Array("backups/a.json".utf8)) == plain)
        #expect(StoreCrypto.open(sealed, key: key, associated: Array("backups/b.json".utf8)) == nil)
        #expect(StoreCrypto.open(sealed, key: StoreCrypto.random(32), associated: Array("backups/a.json".utf8)) == nil)
        for index in [0, 11, 12, sealed.count / 2, sealed.count - 1] {
            var changed = sealed
            changed[index] ^= 0x01
            #expect(
                StoreCrypto.open(changed, key: key, associated: Array("backups/a.json".utf8)) == nil, "byte \(index)")
        }
        #expect(
            StoreCrypto.seal(plain, key: key, associated: []) != StoreCrypto.seal(plain, key: key, associated: []),
            "a fresh nonce each time")
    }

    @Test(
        "a chunk's blob, compressed and sealed in one buffer, opens to the codec's bytes and decodes to the chunk",
        arguments: [0, 1, 100_000])
    func blobSealedInPlace(size: Int) throws {
        let key = StoreCrypto.random(32)
        let compressible = [UInt8](repeating: 7, count: size)
        let random = StoreCrypto.random(size)
        for plain in [compressible, random] {
            let id = ChunkID(hashing: plain)
            let blob = PackLayout.blob(of: plain, id: id, key: key)
            let encoded = ChunkCodec.encode(plain)
            #expect(blob.count == StoreCrypto.nonceLength + encoded.count + StoreCrypto.tagLength)
            let opened = try #require(PackLayout.openBlob(blob, id: id, key: key))
            #expect(opened == encoded, "the sealed bytes are the codec's")
            #expect(try ChunkCodec.decode(opened, id: id, key: "test") == plain)
            #expect(PackLayout.openBlob(blob, id: ChunkID(hashing: [1]), key: key) == nil, "bound to its id")
            #expect(PackLayout.blob(of: plain, id: id, key: nil) == encoded, "a plain store stores the codec's bytes")
        }
    }

    @Test("scrypt matches RFC 7914's test vector (N=1024, r=8, p=16)")
    func scryptVector() {
        let derived = StoreCrypto.scrypt(
            password: Array("password".utf8), salt: Array("NaCl".utf8),
            parameters: .init(n: 1024, r: 8, p: 16), length: 64)
        #expect(
            derived.map(Digest.hex)
                == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        )
        #expect(StoreCrypto.scrypt(password: [1], salt: [2], parameters: .init(n: 1000, r: 8, p: 1)) == nil)
    }

    @Test("keyed chunk ids are RFC 4231's HMAC-SHA-256 (test case 2), not the plain SHA-256")
    func keyedIDs() {
        let data = Array("what do ya want for nothing?".utf8)
        let id = ChunkID(hashing: data, key: Array("Jefe".utf8))
        #expect(id.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(id != ChunkID(hashing: data))
    }

    /// An encrypted repository on a local directory.
    static func encrypted(_ temp: TemporaryDirectory, password: String = "correct horse") async throws
        -> (Repository, LocalDirectoryStore)
    {
        let base = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        let repository = try await Repository.openOrCreate(
            base, config: RepositoryConfig(encryption: .aes256gcm), passwords: FixedPassword(password),
            keyParameters: cheap)
        return (repository, base)
    }

    @Test("no byte of the content, nor its plain hash, appears anywhere in an encrypted store; it restores exactly")
    func nothingInTheClear() async throws {
        let temp = try TemporaryDirectory("enc-clear")
        defer { temp.remove() }
        let marker = "TOP-SECRET-\(UUID().uuidString)"
        let text = Array(String(repeating: "password=\(marker)\n", count: 4000).utf8)
        try FileSystem.makeDirectory(temp.sub("source"))
        try text.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("source/secret.env"), bytes: $0) }
        let (repository, _) = try await Self.encrypted(temp)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "secrets")
        let plainID = ChunkID(hashing: text).hex
        var files = 0
        for path in try FileManager.default.subpathsOfDirectory(atPath: temp.sub("store")) {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: temp.sub("store/\(path)"), isDirectory: &isDirectory)
            guard !isDirectory.boolValue else { continue }
            files += 1
            let content = try FileSystem.readFile(temp.sub("store/\(path)"))
            #expect(!content.starts(with: Array("password=".utf8)))
            #expect(String(decoding: content, as: UTF8.self).range(of: marker) == nil, "\(path) holds the secret")
            #expect(
                String(decoding: content, as: UTF8.self).range(of: "secret.env") == nil, "\(path) holds a file name")
            #expect(!path.contains(plainID))
        }
        #expect(files > 3)
        _ = try await TreeRestore(
            repository: try await Repository.open(
                try LocalDirectoryStore(root: temp.sub("store"), create: false),
                passwords: FixedPassword("correct horse")),
            restoreOwners: false
        ).run(snapshot: "secrets", into: temp.sub("target"))
        #expect(try FileSystem.readFile(temp.sub("target/secret.env")) == text)
    }

    @Test("a wrong or missing password is a clear error; a tampered or swapped object is named")
    func wrongPasswordAndTampering() async throws {
        let temp = try TemporaryDirectory("enc-wrong")
        defer { temp.remove() }
        try FileSystem.makeDirectory(temp.sub("source"))
        for index in 0..<3 {
            try Array("file \(index) \(UUID())".utf8).withUnsafeBytes {
                try FileSystem.writeAtomically(temp.sub("source/f\(index)"), bytes: $0)
            }
        }
        let (repository, base) = try await Self.encrypted(temp)
        _ = try await TreeBackup(repository: repository).run(source: temp.sub("source"), name: "one")

        let wrong = await #expect(throws: ChunkStoreError.self) {
            _ = try await Repository.open(base, passwords: FixedPassword("incorrect horse"))
        }
        #expect(wrong?.description.contains("no key of the store") == true, "\(String(describing: wrong))")
        let missing = await #expect(throws: ChunkStoreError.self) { _ = try await Repository.open(base) }
        #expect(missing?.description.contains("is encrypted") == true, "\(String(describing: missing))")

        // One flipped bit in a record: named when read.
        var record = try FileSystem.readFile(temp.sub("store/snapshots/one.json"))
        record[record.count / 2] ^= 0x04
        try record.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("store/snapshots/one.json"), bytes: $0) }
        let reopened = try await Repository.open(base, passwords: FixedPassword("correct horse"))
        let tampered = await #expect(throws: ChunkStoreError.self) {
            _ = try await reopened.store.get("snapshots/one.json")
        }
        #expect(tampered?.description.contains("'snapshots/one.json'") == true)
        #expect(tampered?.description.contains("corrupt") == true)

        // One flipped byte in a pack: the chunk whose blob holds it does not open, and the error names the pack.
        let packs = await reopened.indexedLocations()
        let (pack, chunks) = try #require(packs.first { !$0.value.isEmpty })
        var bytes = try FileSystem.readFile(temp.sub("store/" + pack.key))
        bytes[chunks[0].range.lowerBound + 20] ^= 0x01
        try bytes.withUnsafeBytes { try FileSystem.writeAtomically(temp.sub("store/" + pack.key), bytes: $0) }
        let flipped = await #expect(throws: ChunkStoreError.self) { _ = try await reopened.getChunk(chunks[0].id) }
        #expect(flipped?.description.contains(pack.key) == true, "\(String(describing: flipped))")
        #expect(flipped?.description.contains("authenticate") == true)
    }

    @Test("several passwords open one store; a key from another store or a plain config beside keys do not")
    func keysAndDowngrade() async throws {
        let temp = try TemporaryDirectory("enc-keys")
        defer { temp.remove() }
        let (repository, base) = try await Self.encrypted(temp)
        try await repository.store.put("backups/x.json", Array(#"{"a":1}"#.utf8))
        // A second password wraps the same master key.
        let first = try await StoreKey.all(in: base)
        let master = try #require(try first[0].open(password: Array("correct horse".utf8)))
        let second = try StoreKey.make(
            master: master, password: Array("battery staple".utf8), store: repository.config.id, parameters: Self.cheap,
            host: "test-host")
        try await base.put(StoreKey.key(second.id), try StoreJSON.encode(second))
        let viaSecond = try await Repository.open(base, passwords: FixedPassword("battery staple"))
        #expect(try await viaSecond.store.get("backups/x.json") == Array(#"{"a":1}"#.utf8))

        // A key object of another store id (a crashed creation, or planted) is ignored even with the right password.
        let planted = try StoreKey.make(
            master: MasterKey.generate(), password: Array("planted".utf8), store: "other-store", parameters: Self.cheap,
            host: "test-host")
        try await base.put(StoreKey.key(planted.id), try StoreJSON.encode(planted))
        await #expect(throws: ChunkStoreError.self) {
            _ = try await Repository.open(base, passwords: FixedPassword("planted"))
        }

        // Rewriting the config as plain while keys exist is refused, not obeyed.
        var config = repository.config
        config.encryption = RepositoryConfig.Encryption.none
        try await base.put(RepositoryConfig.key, try StoreJSON.encode(config))
        let downgrade = await #expect(throws: ChunkStoreError.self) { _ = try await Repository.open(base) }
        #expect(downgrade?.description.contains("holds keys") == true, "\(String(describing: downgrade))")
    }
}
