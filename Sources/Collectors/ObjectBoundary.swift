/// Where a resource stream is cut into chunks: only between objects, where the hash of the object's identity says.
///
/// Boundaries depend on (namespace, name), not on content, so editing an object never moves a boundary: a changed
/// object dirties exactly the one chunk that holds it, and a reader needs just that chunk to get it back. (The
/// design notes suggest byte-level content-defined chunking of the stream; an edit there can also shift the next
/// boundary and dirty a second chunk.) Chunks hold at least `minimum` bytes unless the stream ends, and one is cut
/// once `maximum` is reached; in between, about one boundary in `divisor` objects.
enum ObjectBoundary {
    static let minimum = 8 << 10
    static let maximum = 64 << 10
    static let divisor: UInt64 = 4

    static func cutsAfter(namespace: String?, name: String, pending: Int) -> Bool {
        if pending >= maximum { return true }
        guard pending >= minimum else { return false }
        return fnv1a(namespace ?? "", name) % divisor == 0
    }

    /// FNV-1a 64 over "namespace/name": stable across runs and versions (it decides chunk boundaries).
    static func fnv1a(_ namespace: String, _ name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in namespace.utf8 + [UInt8(ascii: "/")] + name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
