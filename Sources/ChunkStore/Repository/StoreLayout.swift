/// The directories a new store is made with, so that no backup pays for making one: on a local store a directory
/// made on the way is an entry of its parent, flushed with the next barrier (for the first 256 packs, one more
/// fsync each). S3 has no directories and makes none.
public enum StoreLayout {
    /// The chunk store's own: locks, index objects, reference lists and pending markers, snapshot records, and the
    /// 256 pack shards (`PackLayout.key`).
    public static let directories: [String] =
        ["locks", String(IndexFile.prefix.dropLast()), "refs/pending", "refs/lists", "snapshots"]
        + (0..<256).map { shard in
            let hex = String(shard, radix: 16)
            return PackLayout.prefix + (hex.count == 1 ? "0" + hex : hex)
        }
}
