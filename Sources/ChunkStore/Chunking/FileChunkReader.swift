import SystemIO

/// Reads a file through the blocking pool and yields its content-defined chunks in order.
///
/// Holds one buffer of twice the maximum chunk size (at least 8 MiB), so memory per open file is fixed however
/// large the file is. Not shared between tasks.
public final class FileChunkReader {
    private let file: FileDescriptor
    private let chunker: ContentDefinedChunker
    private let pool: BlockingPool
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var reachedEnd = false
    /// Bytes handed out so far.
    public private(set) var bytesRead: Int64 = 0

    public init(file: FileDescriptor, chunker: ContentDefinedChunker, pool: BlockingPool = .shared) {
        self.file = file
        self.chunker = chunker
        self.pool = pool
        buffer = .allocate(byteCount: max(chunker.profile.maximum * 2, 8 << 20), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The next chunk's bytes, or nil at end of file.
    public func next() async throws -> [UInt8]? {
        if end - start < chunker.profile.maximum && !reachedEnd { try await refill() }
        guard start < end else { return nil }
        let window = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        let cut = chunker.nextCut(in: window)
        let chunk = Array(UnsafeRawBufferPointer(rebasing: window[..<cut]))
        start += cut
        bytesRead += Int64(cut)
        return chunk
    }

    private func refill() async throws {
        if start > 0 {
            if end > start { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start) }
            end -= start
            start = 0
        }
        let free = UnsafeSendableBuffer(UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        let file = self.file
        let count = try await pool.run { try file.readFully(into: free.buffer) }
        end += count
        if count < free.buffer.count { reachedEnd = true }
    }
}

/// Lets a buffer that one task owns cross into a pool thread for the duration of one awaited call.
struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
}
