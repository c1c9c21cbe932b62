/// Where one chunk's blob lies: the pack (an ordinal into the table's packs), the offset and the stored length.
public struct ChunkLocation: Sendable, Equatable {
    public var pack: UInt32
    public var offset: UInt32
    public var length: UInt32

    static let removed = UInt32.max
}

/// The in-memory index: chunk id → pack location, for every pack the store's index objects name.
///
/// Kept compact because it grows with the store: a sorted array of fixed records (32-byte id and 12-byte location,
/// 48 bytes with padding), binary-searched, plus a small dictionary of recent additions merged into the array in
/// batches. A chunk stored twice (two writers at once) keeps its further locations aside; lookups take the first.
struct ChunkTable {
    struct Record {
        var id: ChunkID
        var location: ChunkLocation
    }

    struct PackInfo {
        var id: PackID
        var kind: PackKind
        var size: UInt32
        /// The index objects that name this pack (normally one; two after an interrupted rewrite).
        var indexObjects: [String]
        var present: Bool
    }

    private(set) var packs: [PackInfo] = []
    private var ordinals: [PackID: UInt32] = [:]
    private var sorted: [Record] = []
    private var recent: [ChunkID: ChunkLocation] = [:]
    private var further: [ChunkID: [ChunkLocation]] = [:]
    /// Index object name → the packs it names.
    private(set) var indexObjects: [String: [UInt32]] = [:]
    /// Recent additions kept in the dictionary before they are merged into the sorted array.
    private let mergeThreshold = 1 << 16

    /// Distinct chunks located.
    private(set) var count = 0

    func ordinal(of pack: PackID) -> UInt32? { ordinals[pack] }
    func pack(_ ordinal: UInt32) -> PackInfo { packs[Int(ordinal)] }

    /// Packs still present (not dropped).
    var presentPacks: [PackInfo] { packs.filter(\.present) }

    func locate(_ id: ChunkID) -> ChunkLocation? {
        if let location = recent[id] { return location }
        guard let index = sortedIndex(of: id) else { return nil }
        return sorted[index].location
    }

    /// Every location of a chunk (more than one only when it was stored twice).
    func locations(_ id: ChunkID) -> [ChunkLocation] {
        guard let first = locate(id) else { return [] }
        return [first] + (further[id] ?? [])
    }

    private func sortedIndex(of id: ChunkID) -> Int? {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].id < id { low = middle + 1 } else { high = middle }
        }
        guard low < sorted.count, sorted[low].id == id, sorted[low].location.pack != ChunkLocation.removed else {
            return nil
        }
        return low
    }

    /// Adds what one index object names.
    mutating func add(indexObject name: String, packs described: [IndexFile.Pack]) {
        var named: [UInt32] = []
        for pack in described {
            let ordinal: UInt32
            if let known = ordinals[pack.id] {
                ordinal = known
                if !packs[Int(known)].indexObjects.contains(name) { packs[Int(known)].indexObjects.append(name) }
            } else {
                ordinal = UInt32(packs.count)
                ordinals[pack.id] = ordinal
                packs.append(
                    PackInfo(id: pack.id, kind: pack.kind, size: pack.size, indexObjects: [name], present: true))
            }
            named.append(ordinal)
            for entry in pack.entries {
                add(entry.id, ChunkLocation(pack: ordinal, offset: entry.offset, length: entry.length))
            }
        }
        indexObjects[name, default: []] += named
        if recent.count >= mergeThreshold { merge() }
    }

    private mutating func add(_ id: ChunkID, _ location: ChunkLocation) {
        let existing = locations(id)
        if existing.isEmpty {
            recent[id] = location
            count += 1
        } else if !existing.contains(where: { $0.pack == location.pack }) {
            further[id, default: []].append(location)
        }
    }

    /// Removes the chunk's location in `pack` (the chunk may stay located in another pack).
    mutating func remove(_ id: ChunkID, inPack pack: UInt32) {
        if var others = further[id], let at = others.firstIndex(where: { $0.pack == pack }) {
            others.remove(at: at)
            further[id] = others.isEmpty ? nil : others
            return
        }
        guard let first = locate(id), first.pack == pack else { return }
        let replacement = further[id]?.first
        if replacement != nil {
            let rest = Array(further[id]!.dropFirst())
            further[id] = rest.isEmpty ? nil : rest
        } else {
            count -= 1
        }
        if recent[id] != nil {
            recent[id] = replacement
        } else if let index = sortedIndex(of: id) {
            sorted[index].location = replacement ?? ChunkLocation(pack: ChunkLocation.removed, offset: 0, length: 0)
        }
    }

    /// Forgets an index object (its packs stay as long as another object names them).
    mutating func forget(indexObject name: String) {
        for ordinal in indexObjects.removeValue(forKey: name) ?? [] {
            packs[Int(ordinal)].indexObjects.removeAll { $0 == name }
        }
    }

    /// Marks a pack gone; its chunks must have been removed first.
    mutating func dropPack(_ ordinal: UInt32) {
        packs[Int(ordinal)].present = false
    }

    /// Every located chunk once, with its first location.
    func forEach(_ body: (ChunkID, ChunkLocation) -> Void) {
        for record in sorted where record.location.pack != ChunkLocation.removed { body(record.id, record.location) }
        for (id, location) in recent { body(id, location) }
    }

    private mutating func merge() {
        let added = recent.map { Record(id: $0.key, location: $0.value) }.sorted { $0.id < $1.id }
        var merged: [Record] = []
        merged.reserveCapacity(count)
        var a = 0
        var b = 0
        while a < sorted.count || b < added.count {
            if a < sorted.count && sorted[a].location.pack == ChunkLocation.removed {
                a += 1
            } else if b == added.count || (a < sorted.count && sorted[a].id < added[b].id) {
                merged.append(sorted[a])
                a += 1
            } else {
                merged.append(added[b])
                b += 1
            }
        }
        sorted = merged
        recent.removeAll(keepingCapacity: true)
    }
}
