import ChunkStore

/// One shard of the reference counts: the chunks whose id starts with its byte, each with its count, and the
/// operations it has applied.
///
/// Stored in binary (big-endian): `"VCRC"`, a version byte (1), the number of applied operations (u16) and each as
/// a length byte and its UTF-8 name, the number of entries (u32), then the entries in id order: 32 bytes of id and
/// a u32 count. A count of zero is never stored.
struct CountShard: Equatable {
    var applied: [String] = []
    var counts: [ChunkID: UInt32] = [:]

    static let magic = Array("VCRC".utf8)
    static let version: UInt8 = 1
    static let entrySize = 36

    /// The shard holding `id`'s count.
    static func index(of id: ChunkID) -> Int { Int(id.firstByte) }

    /// The shard's name in its key: two lowercase hex digits.
    static func name(_ index: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[index >> 4], digits[index & 0xF]])
    }

    init() {}

    /// Adds `delta` to `id`'s count; a count that reaches zero (or would go below) is dropped.
    mutating func add(_ delta: Int, to id: ChunkID) {
        let count = Int(counts[id] ?? 0) + delta
        counts[id] = count > 0 ? UInt32(clamping: count) : nil
    }

    func encoded() -> [UInt8] {
        var out = Self.magic + [Self.version]
        out.reserveCapacity(out.count + 2 + applied.reduce(0) { $0 + 1 + $1.utf8.count } + 4 + counts.count * 36)
        Self.append(UInt16(applied.count), to: &out)
        for name in applied {
            let bytes = Array(name.utf8.prefix(255))
            out.append(UInt8(bytes.count))
            out += bytes
        }
        Self.append(UInt32(counts.count), to: &out)
        for (id, count) in counts.sorted(by: { $0.key < $1.key }) {
            id.append(to: &out)
            Self.append(count, to: &out)
        }
        return out
    }

    /// Decodes a stored shard; a damaged one is named by `key`.
    init(decoding bytes: [UInt8], key: String) throws {
        func damaged(_ reason: String) -> ChunkStoreError { .corruptRecord(key: key, reason: reason) }
        guard bytes.count >= 11, Array(bytes[0..<4]) == Self.magic else {
            throw damaged("not a reference-count shard")
        }
        guard bytes[4] == Self.version else { throw damaged("shard version \(bytes[4]) is not \(Self.version)") }
        var offset = 5
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw damaged("ends at byte \(bytes.count)") }
            var value: T = 0
            for byte in bytes[offset..<offset + size] { value = value << 8 | T(byte) }
            offset += size
            return value
        }
        let operations = Int(try integer(UInt16.self))
        for _ in 0..<operations {
            let length = Int(try integer(UInt8.self))
            guard offset + length <= bytes.count else { throw damaged("ends at byte \(bytes.count)") }
            applied.append(String(decoding: bytes[offset..<offset + length], as: UTF8.self))
            offset += length
        }
        let entries = Int(try integer(UInt32.self))
        guard bytes.count - offset == entries * Self.entrySize else {
            throw damaged("\(entries) entries do not fill its \(bytes.count - offset) bytes")
        }
        counts.reserveCapacity(entries)
        try bytes.withUnsafeBytes { raw in
            for _ in 0..<entries {
                let id = ChunkID(bytes: raw, at: offset)
                offset += 32
                let count = try integer(UInt32.self)
                guard count > 0 else { throw damaged("chunk \(id) has a stored count of zero") }
                counts[id] = count
            }
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }
}
