/// What a pack holds: data chunks (volume files) or metadata chunks (resource streams, manifests). They go to
/// separate packs, so repacking one kind never rewrites the other.
public enum PackKind: UInt8, Sendable, CaseIterable {
    case data = 0
    case metadata = 1
}

/// One chunk's place in a pack: its id, where its blob starts, and how many bytes the blob takes.
public struct PackEntry: Sendable, Equatable {
    public var id: ChunkID
    public var offset: UInt32
    public var length: UInt32

    public init(id: ChunkID, offset: UInt32, length: UInt32) {
        self.id = id
        self.offset = offset
        self.length = length
    }

    /// Bytes of one entry in a pack header or an index object.
    static let encodedSize = 40
}

/// A pack's name: the SHA-256 of its trailer (`PackLayout.name(trailer:)`), so a pack is checked against its own
/// name. Packs written before 2026-11-30 are named by the SHA-256 of all their bytes; both are accepted.
public struct PackID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let id: ChunkID

    public init(hashing bytes: [UInt8]) { id = ChunkID(hashing: bytes) }
    public init(_ id: ChunkID) { self.id = id }
    public init?(hex: some StringProtocol) {
        guard let id = ChunkID(hex: hex) else { return nil }
        self.id = id
    }

    public var hex: String { id.hex }
    public var description: String { id.hex }
    public var key: String { PackLayout.key(self) }
    public static func < (a: PackID, b: PackID) -> Bool { a.id < b.id }
}

/// The pack object format (store format 3), byte for byte:
///
/// ```
/// pack   = blob* ‖ header' ‖ u32 LE length of header'
/// blob   = ChunkCodec bytes; sealed (AES-256-GCM, the chunk id's 32 bytes as associated data) in encrypted stores
/// header = "VCPK" ‖ version u8 (1) ‖ kind u8 ‖ 2 zero bytes ‖ count u32 LE ‖ salt (16 random bytes) ‖ entry*
/// entry  = chunk id (32 bytes) ‖ offset u32 LE ‖ length u32 LE
/// header' = header, sealed with "pack-header" as associated data in encrypted stores
/// ```
///
/// The pack's name is the SHA-256 of `header' ‖ u32 LE length` (its trailer). The trailer holds every entry's id,
/// offset and length (and, sealed, authenticates them), and each blob is checked against its id (decoded and hashed,
/// or authenticated when sealed), so every byte of a pack is checked by its name or by an entry, without hashing
/// the blobs a second time. (Hashing the whole pack cost a second SHA-256 pass over all data written.)
///
/// A blob sealed with its id as associated data does not open under another id's entry, so a pack cannot be made
/// to answer for a chunk it does not hold. The header repeats the directory that the index objects hold, so a pack
/// can be read (recovery, orphan checks) without them: one ranged read from its end. The salt makes every pack's
/// name its own: a repack that copies all of a pack's blobs must not make a pack of the same name as the one it
/// then deletes.
public enum PackLayout {
    public static let prefix = "packs/"
    static let headerMagic: [UInt8] = Array("VCPK".utf8)
    static let headerVersion: UInt8 = 1
    static let headerAssociated: [UInt8] = Array("pack-header".utf8)
    /// Bytes before the entries in a header.
    static let headerFixedSize = 28

    public static func key(_ pack: PackID) -> String {
        let hex = pack.hex
        return "\(prefix)\(hex.prefix(2))/\(hex)"
    }

    /// The pack a key names, or nil for anything else.
    public static func pack(fromKey key: String) -> PackID? {
        guard key.hasPrefix(prefix), let last = key.split(separator: "/").last, let pack = PackID(hex: last),
            key == Self.key(pack)
        else { return nil }
        return pack
    }

    /// A blob as stored: the codec bytes, sealed under `key` with the chunk id bound to it when there is a key.
    public static func sealBlob(_ encoded: [UInt8], id: ChunkID, key: [UInt8]?) -> [UInt8] {
        guard let key else { return encoded }
        return StoreCrypto.seal(encoded, key: key, associated: id.bytes)
    }

    /// A plain chunk's blob: compressed (`ChunkCodec`) and, with `key`, sealed in the same buffer; equal to
    /// `sealBlob(ChunkCodec.encode(plain), …)` but with one allocation.
    public static func blob(of plain: [UInt8], id: ChunkID, key: [UInt8]?) -> [UInt8] {
        plain.withUnsafeBytes { blob(of: $0, id: id, key: key) }
    }

    /// `blob(of:id:key:)` of bytes in place (a chunk still in a read buffer).
    public static func blob(of plain: UnsafeRawBufferPointer, id: ChunkID, key: [UInt8]?) -> [UInt8] {
        guard let key else { return ChunkCodec.encode(plain) }
        var blob = ChunkCodec.encode(plain, front: StoreCrypto.nonceLength, back: StoreCrypto.tagLength)
        StoreCrypto.sealInPlace(&blob, key: key, associated: id.bytes)
        return blob
    }

    /// The codec bytes of a stored blob; nil when it does not authenticate (tampered, or not this id's).
    public static func openBlob(_ stored: [UInt8], id: ChunkID, key: [UInt8]?) -> [UInt8]? {
        guard let key else { return stored }
        return StoreCrypto.open(stored, key: key, associated: id.bytes)
    }

    /// The header and its trailing length, to append after the blobs.
    public static func trailer(
        kind: PackKind, entries: [PackEntry], key: [UInt8]?, salt: [UInt8] = StoreCrypto.random(16)
    ) -> [UInt8] {
        precondition(salt.count == 16)
        var header = headerMagic + [headerVersion, kind.rawValue, 0, 0]
        header.reserveCapacity(headerFixedSize + entries.count * PackEntry.encodedSize)
        appendLE(UInt32(entries.count), to: &header)
        header += salt
        for entry in entries {
            entry.id.append(to: &header)
            appendLE(entry.offset, to: &header)
            appendLE(entry.length, to: &header)
        }
        var sealed = key.map { StoreCrypto.seal(header, key: $0, associated: headerAssociated) } ?? header
        appendLE(UInt32(sealed.count), to: &sealed)
        return sealed
    }

    /// The name of a pack with this trailer (see the layout above).
    public static func name(trailer: [UInt8]) -> PackID { PackID(hashing: trailer) }

    /// The name a pack's bytes should have: from its trailer, or (packs written before trailer names) from all of
    /// them. Either matching means the name holds.
    public static func nameMatches(_ pack: PackID, bytes: [UInt8]) -> Bool {
        if bytes.count >= 4, let length = headerLength(fromLastFour: Array(bytes.suffix(4))), length <= bytes.count - 4,
            name(trailer: Array(bytes.suffix(length + 4))) == pack
        {
            return true
        }
        return PackID(hashing: bytes) == pack
    }

    /// The length of the sealed header, from a pack's last four bytes.
    public static func headerLength(fromLastFour bytes: [UInt8]) -> Int? {
        guard bytes.count == 4 else { return nil }
        return Int(readLE(bytes, at: 0))
    }

    /// Parses a (sealed) header; checks every entry lies within `blobBytes` (the pack's size before its header).
    public static func parseHeader(_ sealed: [UInt8], key: [UInt8]?, blobBytes: Int, pack: String)
        throws(ChunkStoreError) -> (kind: PackKind, entries: [PackEntry])
    {
        guard let header = key.map({ StoreCrypto.open(sealed, key: $0, associated: headerAssociated) }) ?? sealed
        else { throw .tampered(key: pack + " (header)", store: "the pack") }
        func damaged(_ reason: String) -> ChunkStoreError { .corruptRecord(key: pack, reason: reason) }
        guard header.count >= headerFixedSize, Array(header[0..<4]) == headerMagic else {
            throw damaged("its header is not a pack header")
        }
        guard header[4] == headerVersion else { throw damaged("pack header version \(header[4]) is not known") }
        guard let kind = PackKind(rawValue: header[5]) else { throw damaged("pack kind \(header[5]) is not known") }
        let count = Int(readLE(header, at: 8))
        guard header.count == headerFixedSize + count * PackEntry.encodedSize else {
            throw damaged("its header has \(header.count) bytes for \(count) entries")
        }
        let entries = try parseEntries(header, at: headerFixedSize, count: count, blobBytes: blobBytes, name: pack)
        return (kind, entries)
    }

    /// `count` entries starting at `offset`, each checked to lie within `blobBytes`.
    static func parseEntries(_ bytes: [UInt8], at offset: Int, count: Int, blobBytes: Int, name: String)
        throws(ChunkStoreError) -> [PackEntry]
    {
        var entries: [PackEntry] = []
        entries.reserveCapacity(count)
        var position = offset
        for _ in 0..<count {
            let id = bytes.withUnsafeBytes { ChunkID(bytes: $0, at: position) }
            let entry = PackEntry(
                id: id, offset: readLE(bytes, at: position + 32), length: readLE(bytes, at: position + 36))
            guard Int(entry.offset) + Int(entry.length) <= blobBytes else {
                throw .corruptRecord(key: name, reason: "entry \(id) lies beyond the pack's blobs")
            }
            entries.append(entry)
            position += PackEntry.encodedSize
        }
        return entries
    }
}

func appendLE(_ value: UInt32, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out += $0 }
}

func readLE(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
}
