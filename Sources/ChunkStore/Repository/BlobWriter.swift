/// Writes a stream of bytes into the store as content-defined chunks, uploading them in parallel as they are cut.
///
/// Memory stays bounded: bytes are held only until a cut is certain (one maximum chunk ahead), and the number of
/// chunks being hashed, compressed and uploaded is bounded by the repository's chunk slots, which `append` waits
/// on (backpressure). Used by one task at a time; `finish` returns the chunk list in stream order.
public final class BlobWriter {
    private let repository: Repository
    private let chunker: ContentDefinedChunker
    private var buffer: [UInt8] = []
    private var pending: [Task<ChunkRef, any Error>] = []
    private let statistics: StoreStatistics?
    /// Bytes appended so far: the offset the next appended byte will have in the blob.
    public private(set) var count: Int64 = 0

    /// `statistics` counts this writer's chunks besides the repository's totals.
    public init(repository: Repository, chunker: ContentDefinedChunker, statistics: StoreStatistics? = nil) {
        self.repository = repository
        self.chunker = chunker
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
        var refs: [ChunkRef] = []
        refs.reserveCapacity(pending.count)
        for task in pending { refs.append(try await task.value) }
        pending.removeAll()
        return refs
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
        let slots = repository.chunkSlots
        try await slots.acquire()
        let repository = self.repository
        let statistics = self.statistics
        pending.append(
            Task {
                defer { slots.release() }
                return try await repository.putChunk(piece, statistics: statistics)
            })
    }
}
