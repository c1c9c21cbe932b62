import CLZ4

/// The stored form of a chunk: an 8-byte header, then an lz4 block or the raw bytes when lz4 does not shrink them.
///
/// Header: "VC", format version (1), codec (0 raw, 1 lz4), plain length (UInt32, little-endian). Decoding always
/// decompresses and re-hashes, so a corrupt or truncated object is an error naming the chunk, never wrong data.
public enum ChunkCodec {
    public static let headerSize = 8
    static let formatVersion: UInt8 = 1
    /// Largest plain chunk the format accepts (the header's length field is 32 bits; lz4 takes an Int32).
    public static let maximumPlainLength = 0x7E00_0000

    public enum Codec: UInt8, Sendable { case raw = 0, lz4 = 1 }

    /// Encodes plain bytes; picks lz4 when it saves space.
    public static func encode(_ plain: UnsafeRawBufferPointer) -> [UInt8] {
        encode(plain, front: 0, back: 0)
    }

    /// `encode` with `front` zero bytes before the stored form and `back` after it: room for a seal's nonce and
    /// tag, so the blob is sealed where it is compressed (`StoreCrypto.sealInPlace`).
    public static func encode(_ plain: UnsafeRawBufferPointer, front: Int, back: Int) -> [UInt8] {
        precondition(plain.count <= maximumPlainLength, "chunk too large for the codec")
        let bound = Int(LZ4_compressBound(Int32(plain.count)))
        return [UInt8](unsafeUninitializedCapacity: front + headerSize + max(bound, plain.count) + back) {
            buffer, count in
            count = encode(plain, bound: bound, into: UnsafeMutableRawBufferPointer(buffer), front: front, back: back)
        }
    }

    /// Writes the stored form of `plain` after `front` bytes of `whole`, zeroes `front` and `back`, and returns the
    /// bytes used.
    private static func encode(
        _ plain: UnsafeRawBufferPointer, bound: Int, into whole: UnsafeMutableRawBufferPointer, front: Int, back: Int
    ) -> Int {
        let stored = UnsafeMutableRawBufferPointer(rebasing: whole[front...])
        let body = UnsafeMutableRawBufferPointer(rebasing: stored[headerSize...])
        var compressed: Int32 = 0
        if plain.count > 0 {
            compressed = LZ4_compress_default(
                plain.baseAddress!.assumingMemoryBound(to: CChar.self),
                body.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(plain.count), Int32(bound))
        }
        let codec: Codec
        let length: Int
        if compressed > 0 && Int(compressed) < plain.count {
            codec = .lz4
            length = Int(compressed)
        } else {
            codec = .raw
            if plain.count > 0 { body.baseAddress!.copyMemory(from: plain.baseAddress!, byteCount: plain.count) }
            length = plain.count
        }
        writeHeader(into: stored, codec: codec, plainLength: plain.count)
        let count = front + headerSize + length + back
        if front > 0 { whole.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: front) }
        if back > 0 { (whole.baseAddress! + count - back).initializeMemory(as: UInt8.self, repeating: 0, count: back) }
        return count
    }

    public static func encode(_ plain: [UInt8]) -> [UInt8] {
        plain.withUnsafeBytes { encode($0) }
    }

    private static func writeHeader(into buffer: UnsafeMutableRawBufferPointer, codec: Codec, plainLength: Int) {
        buffer[0] = UInt8(ascii: "V")
        buffer[1] = UInt8(ascii: "C")
        buffer[2] = formatVersion
        buffer[3] = codec.rawValue
        buffer.storeBytes(of: UInt32(plainLength).littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// The codec named in a stored chunk's header, if the header is valid.
    public static func codec(of stored: [UInt8]) -> Codec? {
        stored.withUnsafeBytes { codec(of: $0) }
    }

    static func codec(of stored: UnsafeRawBufferPointer) -> Codec? {
        guard stored.count >= headerSize, stored[0] == UInt8(ascii: "V"), stored[1] == UInt8(ascii: "C"),
            stored[2] == formatVersion
        else { return nil }
        return Codec(rawValue: stored[3])
    }

    /// Decodes a stored chunk and checks that its bytes hash to `id` (keyed with `idKey` in an encrypted store).
    /// `key` names the object in errors.
    public static func decode(_ stored: [UInt8], id: ChunkID, key: String, idKey: [UInt8]? = nil)
        throws(ChunkStoreError) -> [UInt8]
    {
        let length = try stored.withUnsafeBytes { stored in
            Result { () throws(ChunkStoreError) in try header(of: stored, id: id, key: key).plainLength }
        }.get()
        var failure: ChunkStoreError?
        let decoded = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            let result = stored.withUnsafeBytes { stored in
                Result { () throws(ChunkStoreError) in
                    try decode(stored, id: id, key: key, idKey: idKey, into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
            switch result {
            case .success(let decoded): count = decoded
            case .failure(let error):
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return decoded
    }

    /// Decodes a stored chunk into `destination`, which must hold exactly its plain length (the header's), and
    /// checks that those bytes hash to `id`; returns that length. The bytes are decoded where they will be used
    /// (a restore's write buffer), with no copy of their own. `key` names the object in errors.
    @discardableResult
    public static func decode(
        _ stored: UnsafeRawBufferPointer, id: ChunkID, key: String, idKey: [UInt8]? = nil,
        into destination: UnsafeMutableRawBufferPointer
    ) throws(ChunkStoreError) -> Int {
        func corrupt(_ reason: String) -> ChunkStoreError { .corruptChunk(id: id, key: key, reason: reason) }
        let (codec, plainLength) = try header(of: stored, id: id, key: key)
        guard destination.count == plainLength else {
            throw corrupt("its header says \(plainLength) bytes, its reference \(destination.count)")
        }
        let body = UnsafeRawBufferPointer(rebasing: stored[headerSize...])
        switch codec {
        case .raw:
            guard body.count == plainLength else {
                throw corrupt("raw body is \(body.count) bytes, header says \(plainLength)")
            }
            if plainLength > 0 { destination.baseAddress!.copyMemory(from: body.baseAddress!, byteCount: plainLength) }
        case .lz4:
            let produced = LZ4_decompress_safe(
                body.baseAddress?.assumingMemoryBound(to: CChar.self),
                destination.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(body.count), Int32(plainLength))
            guard produced == Int32(plainLength) else { throw corrupt("lz4 block does not decompress") }
        }
        let plain = UnsafeRawBufferPointer(destination)
        let hashed = idKey.map { ChunkID(hashing: plain, key: $0) } ?? ChunkID(hashing: plain)
        guard hashed == id else { throw corrupt("content does not hash to its id") }
        return plainLength
    }

    /// A stored chunk's codec and plain length, from a header that must be valid.
    private static func header(of stored: UnsafeRawBufferPointer, id: ChunkID, key: String)
        throws(ChunkStoreError) -> (codec: Codec, plainLength: Int)
    {
        func corrupt(_ reason: String) -> ChunkStoreError { .corruptChunk(id: id, key: key, reason: reason) }
        guard stored.count >= headerSize else {
            throw corrupt("object is \(stored.count) bytes, shorter than a header")
        }
        guard let codec = codec(of: stored) else { throw corrupt("unknown header or format version") }
        let plainLength = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard plainLength <= maximumPlainLength else { throw corrupt("header claims \(plainLength) bytes") }
        return (codec, plainLength)
    }
}
