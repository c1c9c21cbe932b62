/// Names of snapshots and backups follow Kubernetes object names (RFC 1123 subdomain), as Velero's do.
public enum ResourceName {
    public static func validate(_ name: String, what: String = "name") throws(ChunkStoreError) {
        func bad(_ reason: String) -> ChunkStoreError { .invalidName(name, reason: reason) }
        guard !name.isEmpty else { throw bad("\(what) must not be empty") }
        guard name.utf8.count <= 253 else { throw bad("\(what) must be at most 253 characters") }
        let bytes = Array(name.utf8)
        let isAlphanumeric = { (c: UInt8) in (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        guard bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
            throw bad("\(what) may contain only lowercase letters, digits, '-' and '.'")
        }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else {
            throw bad("\(what) must start and end with a lowercase letter or digit")
        }
    }
}
