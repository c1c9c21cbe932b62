import Synchronization
import SystemIO

/// Reads a file through the blocking pool and yields its content-defined chunks in order.
///
/// Holds one buffer of twice the maximum chunk size (at least 8 MiB), so memory per open file is fixed however
/// large the file is. Not shared between tasks. Buffers are reused from file to file (`ReadBuffers`): a fresh
/// 8 MiB allocation per file is an mmap, page faults on every byte read and an munmap, thousands of times in a
/// tree of small files.
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
        buffer = ReadBuffers.shared.take(byteCount: max(chunker.profile.maximum * 2, 8 << 20))
    }

    deinit { ReadBuffers.shared.give(buffer) }

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

/// Read buffers kept for the next file: at most `limit`, all of one size (the chunker's); others are freed.
final class ReadBuffers: Sendable {
    static let shared = ReadBuffers(limit: 16)

    private struct Spare: @unchecked Sendable {
        var buffers: [UnsafeMutableRawBufferPointer] = []
    }

    private let spare = Mutex(Spare())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let reused = spare.withLock { spare -> Spare in
            guard let index = spare.buffers.lastIndex(where: { $0.count == byteCount }) else { return Spare() }
            return Spare(buffers: [spare.buffers.remove(at: index)])
        }
        return reused.buffers.first ?? .allocate(byteCount: byteCount, alignment: 64)
    }

    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        // A buffer of another size replaces the kept ones (another chunker); those are freed outside the lock.
        let given = Spare(buffers: [buffer])
        let freed = spare.withLock { spare -> Spare in
            if let size = spare.buffers.first?.count, size != buffer.count {
                defer { spare = given }
                return spare
            }
            guard spare.buffers.count < limit else { return given }
            spare.buffers.append(buffer)
            return Spare()
        }
        for buffer in freed.buffers { buffer.deallocate() }
    }
}
