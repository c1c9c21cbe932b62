/// Writes a generated object's JSON bytes directly (no intermediate values), keeping track of where
/// metadata.resourceVersion goes. Callers write keys in sorted order so bodies match what the server re-encodes.
struct ObjectBuilder {
    var bytes: [UInt8] = []
    var versionRange = 0..<0

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string literal (escaped when needed).
    mutating func string(_ text: String) {
        JSONWriter.writeString(text, to: &bytes)
    }

    /// `"key":"value"` pairs of a string map, sorted by key, inside braces.
    mutating func stringMap(_ pairs: [(String, String)]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, pair) in pairs.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(pair.0)
            bytes.append(UInt8(ascii: ":"))
            string(pair.1)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Filler text as a JSON string: `length` bytes cut from `pool` at `offset`.
    mutating func filler(_ pool: [UInt8], offset: Int, length: Int) {
        bytes.append(UInt8(ascii: "\""))
        var remaining = max(0, length)
        var start = offset % pool.count
        while remaining > 0 {
            let take = min(remaining, pool.count - start)
            bytes.append(contentsOf: pool[start..<(start + take)])
            remaining -= take
            start = 0
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The metadata object, sorted keys: annotations, creationTimestamp, generation, labels, name, namespace,
    /// ownerReferences (`owners`, a JSON array written as is), resourceVersion, uid.
    mutating func metadata(
        name: String, namespace: String, uid: String, version: UInt64, created: String, labels: [(String, String)],
        annotations: [(String, String)] = [], generation: Int? = nil, owners: String? = nil
    ) {
        raw("{")
        if !annotations.isEmpty {
            raw("\"annotations\":")
            stringMap(annotations)
            raw(",")
        }
        raw("\"creationTimestamp\":\"\(created)\",")
        if let generation { raw("\"generation\":\(generation),") }
        if !labels.isEmpty {
            raw("\"labels\":")
            stringMap(labels)
            raw(",")
        }
        raw("\"name\":")
        string(name)
        if !namespace.isEmpty {
            raw(",\"namespace\":")
            string(namespace)
        }
        if let owners { raw(",\"ownerReferences\":" + owners) }
        raw(",\"resourceVersion\":\"")
        let start = bytes.count
        raw(String(version))
        versionRange = start..<bytes.count
        raw("\",\"uid\":\"\(uid)\"}")
    }
}
