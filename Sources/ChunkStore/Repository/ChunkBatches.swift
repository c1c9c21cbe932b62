/// How reads of many chunks are grouped: consecutive chunks up to `maximumBytes` a group, each group fetched by one
/// task with `Repository.getChunks` (one ranged read per run of adjacent blobs in a pack).
enum ChunkBatches {
    /// Large enough that a file's adjacent chunks come in few requests, small enough that one file's groups still
    /// spread over the cores and the byte budget.
    static let maximumBytes = 8 << 20

    /// Consecutive chunks grouped up to `maximumBytes` each (a larger chunk is a group of its own).
    static func split(_ chunks: [ChunkRef], maximumBytes: Int = maximumBytes) -> [[ChunkRef]] {
        var groups: [[ChunkRef]] = []
        var current: [ChunkRef] = []
        var bytes = 0
        for chunk in chunks {
            if !current.isEmpty && bytes + chunk.length > maximumBytes {
                groups.append(current)
                current = []
                bytes = 0
            }
            current.append(chunk)
            bytes += chunk.length
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
