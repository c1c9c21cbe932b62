import COpenSSL

/// A chunk's name: the SHA-256 of its uncompressed bytes (in an encrypted store, their HMAC-SHA-256 under the
/// store's secret). Equal content means equal id, which is what dedups.
public struct ChunkID: Hashable, Sendable, Comparable, CustomStringConvertible {
    // 32 bytes as four words: cheap to hash and compare.
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(digest: UnsafeRawBufferPointer) {
        precondition(digest.count == 32)
        words = (
            digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self).bigEndian,
            digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian,
            digest.loadUnaligned(fromByteOffset: 16, as: UInt64.self).bigEndian,
            digest.loadUnaligned(fromByteOffset: 24, as: UInt64.self).bigEndian
        )
    }

    /// Hashes `bytes` (OpenSSL EVP SHA-256).
    public init(hashing bytes: UnsafeRawBufferPointer) {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digest) { out in
            let ok = copenssl_sha256(
                bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            precondition(ok == 1, "OpenSSL SHA-256 failed")
        }
        self = withUnsafeBytes(of: &digest) { ChunkID(digest: $0) }
    }

    public init(hashing bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { ChunkID(hashing: $0) }
    }

    /// The id of `bytes` in an encrypted store: HMAC-SHA-256 keyed with the store's secret, so equal content still
    /// has equal ids (dedup) but an id says nothing about the content to whoever lacks the secret.
    public init(hashing bytes: UnsafeRawBufferPointer, key: [UInt8]) {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digest) { out in
            let ok = key.withUnsafeBytes { key in
                copenssl_hmac_sha256(
                    key.baseAddress, key.count, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count,
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(ok == 1, "OpenSSL HMAC-SHA-256 failed")
        }
        self = withUnsafeBytes(of: &digest) { ChunkID(digest: $0) }
    }

    /// SHA-256 of `bytes`, or its keyed HMAC when the store has a chunk-id key.
    public init(hashing bytes: [UInt8], key: [UInt8]?) {
        self = bytes.withUnsafeBytes { ChunkID(hashing: $0, key: key) }
    }

    /// SHA-256 of `bytes` in place, or its keyed HMAC when the store has a chunk-id key.
    public init(hashing bytes: UnsafeRawBufferPointer, key: [UInt8]?) {
        self = key.map { ChunkID(hashing: bytes, key: $0) } ?? ChunkID(hashing: bytes)
    }

    /// Parses 64 lowercase or uppercase hex digits; nil for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = Self.nibble(utf8[2 * index]), let low = Self.nibble(utf8[2 * index + 1]) else {
                return nil
            }
            bytes[index] = high << 4 | low
        }
        self = bytes.withUnsafeBytes { ChunkID(digest: $0) }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 32 bytes, most significant first (as the hex form reads).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        append(to: &out)
        return out
    }

    /// Appends the 32 bytes to `out`.
    public func append(to out: inout [UInt8]) {
        for word in [words.0, words.1, words.2, words.3] { withUnsafeBytes(of: word.bigEndian) { out += $0 } }
    }

    /// The id whose 32 bytes start at `offset` of `raw` (the caller checks there are 32).
    public init(bytes raw: UnsafeRawBufferPointer, at offset: Int) {
        self.init(digest: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 32]))
    }

    /// The first of the 32 bytes (shards of per-chunk state are chosen by it).
    public var firstByte: UInt8 { UInt8(truncatingIfNeeded: words.0 >> 56) }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((word >> UInt64(shift)) & 0xF)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (a: ChunkID, b: ChunkID) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public static func < (a: ChunkID, b: ChunkID) -> Bool {
        (a.words.0, a.words.1, a.words.2, a.words.3) < (b.words.0, b.words.1, b.words.2, b.words.3)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

extension ChunkID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ChunkID(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a chunk id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// A chunk as a file or stream refers to it: its id and how many plain bytes it holds.
public struct ChunkRef: Hashable, Sendable, Codable {
    public var id: ChunkID
    public var length: Int

    public init(id: ChunkID, length: Int) {
        self.id = id
        self.length = length
    }
}
