/// Checks that a manifest path stays inside the restore target.
public enum ManifestPath {
    /// Refuses absolute paths, empty, "." and ".." components, and NUL bytes.
    public static func validate(_ path: String) throws(ChunkStoreError) {
        func refuse(_ reason: String) -> ChunkStoreError { .unsafeManifestPath(path: path, reason: reason) }
        guard !path.isEmpty else { throw refuse("empty path") }
        guard !path.hasPrefix("/") else { throw refuse("absolute path") }
        guard !path.utf8.contains(0) else { throw refuse("contains a NUL byte") }
        guard path.utf8.count <= 4096 else { throw refuse("longer than 4096 bytes") }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component == ".." { throw refuse("contains '..'") }
            if component.isEmpty || component == "." { throw refuse("contains an empty or '.' component") }
        }
    }

    /// The parent of a relative path ("" for a top-level entry).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
}
