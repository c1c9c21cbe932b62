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
            do {
                _ = try await running.value
                return nil
            } catch is CancellationError where !Task.isCancelled {
                // The task that started the upload was cancelled, this one was not: it uploads the chunk itself.
                return try await ensureStored(id, upload: upload)
            }
        }
        // The upload is shared with later callers of the same chunk, so it runs as a task of its own; it is
        // cancelled with the caller that started it, so no upload outlives a cancelled operation.
        let task = Task { try await upload() }
        inFlight[id] = task
        defer { if inFlight[id] == task { inFlight[id] = nil } }
        let written = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
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
