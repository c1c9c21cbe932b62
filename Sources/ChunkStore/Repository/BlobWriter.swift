import Synchronization

/// Writes a stream of bytes into the store as content-defined chunks, uploading them in parallel as they are cut.
///
/// Memory stays bounded: bytes are held only until a cut is certain (one maximum chunk ahead), and the number of
/// chunks being hashed, compressed and uploaded is bounded by the repository's chunk slots, which `append` waits
/// on (backpressure). Used by one task at a time; `finish` returns the chunk list in stream order.
///
/// Failure stops the work: once an upload fails, or the calling task is cancelled, the next call cancels the other
/// uploads, waits until every one of them has ended, and throws; so no upload outlives the operation (and the store
/// lock) that started it. A caller that gives up for its own reasons calls `cancel()` for the same guarantee.
public final class BlobWriter {
    private let repository: Repository
    private let chunker: ContentDefinedChunker
    private var buffer: [UInt8] = []
    private var pending: [Task<ChunkRef, any Error>] = []
    /// The first upload failure, set by the upload tasks.
    private let failure = FirstFailure()
    private let statistics: StoreStatistics?
    private let kind: PackKind
    /// Bytes appended so far: the offset the next appended byte will have in the blob.
    public private(set) var count: Int64 = 0

    /// `statistics` counts this writer's chunks besides the repository's totals; `kind` says which packs its chunks
    /// go to (metadata: resource streams and manifests; data: file contents).
    public init(
        repository: Repository, chunker: ContentDefinedChunker, kind: PackKind = .data,
        statistics: StoreStatistics? = nil
    ) {
        self.repository = repository
        self.chunker = chunker
        self.kind = kind
        self.statistics = statistics
    }

    deinit {
        for task in pending { task.cancel() }
    }

    public func append(_ bytes: some Collection<UInt8>, isolation: isolated (any Actor)? = #isolation) async throws {
        buffer.append(contentsOf: bytes)
        count += Int64(bytes.count)
        if buffer.count >= chunker.profile.maximum * 2 { try await cut(final: false) }
    }

    /// Stores `bytes` as one chunk of its own, for callers that choose their own boundaries (resource streams cut
    /// at object boundaries). Anything appended before and not yet cut is cut first.
    public func appendChunk(_ bytes: [UInt8], isolation: isolated (any Actor)? = #isolation) async throws {
        try await cut(final: true)
        guard !bytes.isEmpty else { return }
        count += Int64(bytes.count)
        try await upload(bytes)
    }

    /// Cuts what is left and waits for every upload; returns the chunks in order.
    public func finish(isolation: isolated (any Actor)? = #isolation) async throws -> [ChunkRef] {
        try await cut(final: true)
        let tasks = pending
        var refs: [ChunkRef] = []
        refs.reserveCapacity(tasks.count)
        do {
            try await withTaskCancellationHandler {
                for task in tasks { refs.append(try await task.value) }
            } onCancel: {
                for task in tasks { task.cancel() }
            }
        } catch {
            await cancel()
            throw error
        }
        pending.removeAll()
        return refs
    }

    /// Cancels the uploads under way and waits until each has ended. The writer holds nothing afterwards.
    public func cancel(isolation: isolated (any Actor)? = #isolation) async {
        let tasks = pending
        pending.removeAll()
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
    }

    /// Throws (after stopping every upload) when an upload failed or the calling task was cancelled.
    private func stopIfFailed(isolation: isolated (any Actor)? = #isolation) async throws {
        if let error = failure.error {
            await cancel()
            throw error
        }
        if Task.isCancelled {
            await cancel()
            throw CancellationError()
        }
    }

    private func cut(final: Bool, isolation: isolated (any Actor)? = #isolation) async throws {
        var start = 0
        while buffer.count - start >= (final ? 1 : chunker.profile.maximum) {
            let length = buffer.withUnsafeBytes { chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: $0[start...])) }
            let piece = Array(buffer[start..<start + length])
            start += length
            try await upload(piece)
        }
        buffer.removeFirst(start)
    }

    private func upload(_ piece: [UInt8], isolation: isolated (any Actor)? = #isolation) async throws {
        try await stopIfFailed()
        let bytes = piece.count
        do { try await repository.acquireChunkWork(bytes: bytes) } catch {
            await cancel()
            throw error
        }
        // A failing upload releases its slot, so a wait for one ends and the failure is seen here.
        do { try await stopIfFailed() } catch {
            repository.releaseChunkWork(bytes: bytes)
            throw error
        }
        let repository = self.repository
        let statistics = self.statistics
        let failure = self.failure
        let kind = self.kind
        pending.append(
            Task {
                defer { repository.releaseChunkWork(bytes: bytes) }
                do { return try await repository.putChunk(piece, kind: kind, statistics: statistics) } catch {
                    failure.record(error)
                    throw error
                }
            })
    }
}

/// The first error of several concurrent tasks.
final class FirstFailure: Sendable {
    private let state = Mutex<(any Error)?>(nil)

    var error: (any Error)? { state.withLock { $0 } }

    func record(_ error: any Error) {
        state.withLock { if $0 == nil { $0 = error } }
    }
}
