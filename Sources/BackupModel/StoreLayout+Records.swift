import ChunkStore

extension StoreLayout {
    /// A velero-cas store's directories: the chunk store's, and those of the backup, restore and resource-manifest
    /// records.
    public static let withRecords: [String] = directories + ["backups", "restores", "resource-manifests"]
}
