/// Which chunks are known to be stored, and which are being stored right now.
///
/// An actor because many tasks put chunks at once. A second put of a chunk already in flight awaits the first
/// upload's task instead of starting its own; the task is recorded before the first await, so actor reentrancy
/// cannot let two uploads of one chunk start.
actor ChunkIndex {
    private var known: Set<ChunkID> = []
    private var inFlight: [ChunkID: Task<Int?, any Error>] = [:]

    /// Runs `upload` unless the chunk is known or already being uploaded. Returns the stored size when this call's
    /// upload wrote the chunk; nil when it was known, in flight elsewhere, or found already stored by `upload`.
    func ensureStored(_ id: ChunkID, upload: @escaping @Sendable () async throws -> Int?) async throws -> Int? {
        if known.contains(id) { return nil }
        if let running = inFlight[id] {
            _ = try await running.value
            return nil
        }
        let task = Task { try await upload() }
        inFlight[id] = task
        defer { inFlight[id] = nil }
        let written = try await task.value
        known.insert(id)
        return written
    }

    func markKnown(_ ids: some Sequence<ChunkID>) {
        known.formUnion(ids)
    }

    func forget(_ ids: some Sequence<ChunkID>) {
        known.subtract(ids)
    }

    /// Forgets every known chunk (uploads in flight stay): what was known may have been collected since.
    func forgetAll() {
        known.removeAll()
    }
}
