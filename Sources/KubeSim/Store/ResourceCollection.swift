/// The objects of one resource type, sorted by key (namespace, then name — etcd key order).
///
/// A plain sorted array of references: lookups binary-search, appends in key order (generation, restores in backup
/// order) are O(1), and a list takes the array by value, so a continue token can keep reading a consistent snapshot
/// while writers go on (copy-on-write copies the references once, on the first write after a snapshot was taken).
struct ResourceCollection: Sendable {
    private(set) var items: [StoredObject] = []

    var count: Int { items.count }

    /// The first index whose key is not less than `key`.
    static func lowerBound(_ key: String, in items: [StoredObject], _ range: Range<Int>? = nil) -> Int {
        var low = range?.lowerBound ?? 0
        var high = range?.upperBound ?? items.count
        while low < high {
            let middle = (low + high) / 2
            if items[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The slice of `items` in `namespace` (all of them for nil).
    static func range(of namespace: String?, in items: [StoredObject]) -> Range<Int> {
        guard let namespace, !namespace.isEmpty else { return 0..<items.count }
        // Keys in the namespace start with "ns/"; "ns0" is the first key after them ('0' follows '/').
        let lower = lowerBound(namespace + "/", in: items)
        let upper = lowerBound(namespace + "0", in: items)
        return lower..<max(lower, upper)
    }

    func object(forKey key: String) -> StoredObject? {
        let index = Self.lowerBound(key, in: items)
        return index < items.count && items[index].key == key ? items[index] : nil
    }

    /// Inserts or replaces; returns the replaced object.
    @discardableResult
    mutating func upsert(_ object: StoredObject) -> StoredObject? {
        if let last = items.last, last.key < object.key {
            items.append(object)
            return nil
        }
        let index = Self.lowerBound(object.key, in: items)
        if index < items.count && items[index].key == object.key {
            let previous = items[index]
            items[index] = object
            return previous
        }
        items.insert(object, at: index)
        return nil
    }

    @discardableResult
    mutating func remove(key: String) -> StoredObject? {
        let index = Self.lowerBound(key, in: items)
        guard index < items.count && items[index].key == key else { return nil }
        return items.remove(at: index)
    }

    /// Removes every object in `namespace` and returns them in key order.
    mutating func removeAll(in namespace: String) -> [StoredObject] {
        let range = Self.range(of: namespace, in: items)
        let removed = Array(items[range])
        items.removeSubrange(range)
        return removed
    }

    /// Adds many objects at once: one sort instead of many inserts. Later objects replace earlier ones with the same
    /// key; returns the objects that were replaced.
    mutating func insertMany(_ objects: [StoredObject]) -> [StoredObject] {
        guard !objects.isEmpty else { return [] }
        let alreadySorted =
            (items.last.map { $0.key < objects[0].key } ?? true)
            && zip(objects, objects.dropFirst()).allSatisfy { $0.key < $1.key }
        if alreadySorted {
            items.append(contentsOf: objects)
            return []
        }
        var replaced: [StoredObject] = []
        var combined = items
        combined.append(contentsOf: objects)
        // Stable sort keeps insertion order among equal keys, so the last one of each key is the newest.
        let order = combined.indices.sorted {
            combined[$0].key < combined[$1].key || combined[$0].key == combined[$1].key && $0 < $1
        }
        var merged: [StoredObject] = []
        merged.reserveCapacity(combined.count)
        for index in order {
            let object = combined[index]
            if let last = merged.last, last.key == object.key {
                replaced.append(last)
                merged[merged.count - 1] = object
            } else {
                merged.append(object)
            }
        }
        items = merged
        return replaced
    }
}
