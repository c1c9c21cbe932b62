/// The index object format (store format 3): which chunks each pack holds, so a reader finds any chunk without
/// listing or reading packs. Sealed whole (like every object but config, keys, locks and packs) in encrypted stores.
///
/// ```
/// index = "VCIX" ‖ version u8 (1) ‖ 3 zero bytes ‖ pack count u32 LE ‖ pack*
/// pack  = pack id (32 bytes) ‖ kind u8 ‖ 3 zero bytes ‖ pack size u32 LE ‖ entry count u32 LE ‖ entry*
/// entry = chunk id (32 bytes) ‖ offset u32 LE ‖ length u32 LE
/// ```
public enum IndexFile {
    public static let prefix = "index/"
    static let magic: [UInt8] = Array("VCIX".utf8)
    static let version: UInt8 = 1
    /// Entries per index object at most (restic's threshold), so a rewrite after an expiry stays small.
    public static let maximumEntries = 50_000

    /// One pack as an index object describes it.
    public struct Pack: Sendable, Equatable {
        public var id: PackID
        public var kind: PackKind
        /// The pack object's size in bytes (blobs and header).
        public var size: UInt32
        public var entries: [PackEntry]

        public init(id: PackID, kind: PackKind, size: UInt32, entries: [PackEntry]) {
            self.id = id
            self.kind = kind
            self.size = size
            self.entries = entries
        }

        /// Bytes of the blobs of its entries.
        public var entryBytes: Int { entries.reduce(0) { $0 + Int($1.length) } }
    }

    /// A new index object's key: random, since several writers add index objects at once.
    public static func newKey() -> String {
        prefix + StoreCrypto.random(32).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    public static func isIndexKey(_ key: String) -> Bool {
        guard key.hasPrefix(prefix) else { return false }
        let name = key.dropFirst(prefix.count)
        return name.utf8.count == 64 && ChunkID(hex: name) != nil
    }

    /// One description per pack: a pack two index objects name (after an interrupted rewrite) gets the union of
    /// their entries.
    public static func merged(_ packs: [Pack]) -> [Pack] {
        var order: [PackID] = []
        var byID: [PackID: Pack] = [:]
        for pack in packs {
            if var known = byID[pack.id] {
                let have = Set(known.entries.map(\.id))
                known.entries += pack.entries.filter { !have.contains($0.id) }
                byID[pack.id] = known
            } else {
                byID[pack.id] = pack
                order.append(pack.id)
            }
        }
        return order.map { byID[$0]! }
    }

    public static func encode(_ packs: [Pack]) -> [UInt8] {
        var out = magic + [version, 0, 0, 0]
        appendLE(UInt32(packs.count), to: &out)
        for pack in packs {
            pack.id.id.append(to: &out)
            out += [pack.kind.rawValue, 0, 0, 0]
            appendLE(pack.size, to: &out)
            appendLE(UInt32(pack.entries.count), to: &out)
            for entry in pack.entries {
                entry.id.append(to: &out)
                appendLE(entry.offset, to: &out)
                appendLE(entry.length, to: &out)
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8], key: String) throws(ChunkStoreError) -> [Pack] {
        func damaged(_ reason: String) -> ChunkStoreError { .corruptRecord(key: key, reason: reason) }
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else { throw damaged("not an index object") }
        guard bytes[4] == version else { throw damaged("index version \(bytes[4]) is not known") }
        let count = Int(readLE(bytes, at: 8))
        var packs: [Pack] = []
        packs.reserveCapacity(count)
        var position = 12
        for _ in 0..<count {
            guard position + 44 <= bytes.count else { throw damaged("it ends inside pack \(packs.count + 1)") }
            let id = PackID(bytes.withUnsafeBytes { ChunkID(bytes: $0, at: position) })
            guard let kind = PackKind(rawValue: bytes[position + 32]) else {
                throw damaged("pack \(id) has unknown kind \(bytes[position + 32])")
            }
            let size = readLE(bytes, at: position + 36)
            let entryCount = Int(readLE(bytes, at: position + 40))
            position += 44
            guard position + entryCount * PackEntry.encodedSize <= bytes.count else {
                throw damaged("it ends inside the entries of pack \(id)")
            }
            let entries = try PackLayout.parseEntries(
                bytes, at: position, count: entryCount, blobBytes: Int(size), name: key)
            position += entryCount * PackEntry.encodedSize
            packs.append(Pack(id: id, kind: kind, size: size, entries: entries))
        }
        guard position == bytes.count else { throw damaged("\(bytes.count - position) bytes follow the last pack") }
        return packs
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
