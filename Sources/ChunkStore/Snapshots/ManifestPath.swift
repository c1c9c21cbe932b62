import SystemIO

/// Checks that a manifest path stays inside the restore target. Paths are bytes: a name need not be UTF-8.
public enum ManifestPath {
    /// Refuses absolute paths, empty, "." and ".." components, and NUL bytes.
    public static func validate(_ path: String) throws(ChunkStoreError) {
        try validate(Array(path.utf8))
    }

    /// Refuses absolute paths, empty, "." and ".." components, and NUL bytes.
    public static func validate(_ path: [UInt8]) throws(ChunkStoreError) {
        func refuse(_ reason: String) -> ChunkStoreError {
            .unsafeManifestPath(path: Path.display(path), reason: reason)
        }
        guard !path.isEmpty else { throw refuse("empty path") }
        guard path.first != slash else { throw refuse("absolute path") }
        guard !path.contains(0) else { throw refuse("contains a NUL byte") }
        guard path.count <= 4096 else { throw refuse("longer than 4096 bytes") }
        for component in components(path) {
            if component == [dot, dot] { throw refuse("contains '..'") }
            if component.isEmpty || component == [dot] { throw refuse("contains an empty or '.' component") }
        }
    }

    /// The '/'-separated components of a relative path.
    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: slash, omittingEmptySubsequences: false).map(Array.init)
    }

    /// The parent of a relative path ([] for a top-level entry).
    static func parent(of path: [UInt8]) -> [UInt8] {
        guard let index = path.lastIndex(of: slash) else { return [] }
        return Array(path[..<index])
    }

    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")
}
