import Synchronization
import SystemIO

/// Reads a file through the blocking pool and yields its content-defined chunks in order.
///
/// Holds one buffer of twice the maximum chunk size (at least 8 MiB), so memory per open file is fixed however
/// large the file is. Not shared between tasks. Buffers are reused from file to file (`SpareBuffers`): a fresh
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
        buffer = SpareBuffers.readers.take(byteCount: max(chunker.profile.maximum * 2, 8 << 20))
    }

    deinit { SpareBuffers.readers.give(buffer) }

    /// The next chunk's bytes, or nil at end of file.
    public func next() async throws -> ChunkBytes? {
        if end - start < chunker.profile.maximum && !reachedEnd { try await refill() }
        guard start < end else { return nil }
        let window = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        let cut = chunker.nextCut(in: window)
        let chunk = ChunkBytes(copying: UnsafeRawBufferPointer(rebasing: window[..<cut]))
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

/// A chunk's bytes, in a buffer kept for reuse (`SpareBuffers.chunks`) that goes back when the last reference to
/// them does. A backup reads a chunk of about a megabyte a thousand times per gigabyte; a fresh array for each is a
/// heap allocation whose pages the allocator hands back and faults in again, a tenth of a backup's CPU time.
/// Immutable once made, so tasks may share it.
public final class ChunkBytes: PlainBytes, @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let spares: SpareBuffers
    public let count: Int

    init(copying bytes: UnsafeRawBufferPointer, spares: SpareBuffers = .chunks) {
        storage = spares.take(atLeast: bytes.count)
        self.spares = spares
        if bytes.count > 0 { storage.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        count = bytes.count
    }

    deinit { spares.give(storage) }

    /// Where the bytes are (for tests of the reuse).
    var address: UnsafeRawPointer? { UnsafeRawPointer(storage.baseAddress) }

    public func withPlainBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(rebasing: storage[..<count]))
    }

    /// The bytes as an array (a copy).
    public var array: [UInt8] { withPlainBytes { Array($0) } }
}

/// A chunk's plain bytes, however they are held: an array, or a buffer kept for reuse (`ChunkBytes`).
public protocol PlainBytes: Sendable {
    var count: Int { get }
    func withPlainBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: PlainBytes where Element == UInt8 {
    public func withPlainBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }
}

/// Lets a buffer that one task owns cross into a pool thread for the duration of one awaited call.
struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
}

/// Buffers kept for reuse: at most `limitBytes` of them, by size. A fresh allocation of a megabyte or more is an
/// mmap, a page fault on every page touched and an munmap; reusing them makes a tree of thousands of small files cost
/// what one large file does. Readers take one of a fixed size per file; a restore takes one per run (`take(atLeast:)`,
/// a power of two), so a handful of sizes recur.
final class SpareBuffers: Sendable {
    /// The file readers' (8 MiB each, sixteen of them).
    static let readers = SpareBuffers(limitBytes: 128 << 20)
    /// Chunks read and not yet stored (`ChunkBytes`): what a repository's byte budget lets be under way is in use,
    /// and at most this much more is kept spare.
    static let chunks = SpareBuffers(limitBytes: 32 << 20)

    private struct Spare: @unchecked Sendable {
        var buffers: [UnsafeMutableRawBufferPointer] = []
        var bytes = 0
    }

    private let spare = Mutex(Spare())
    private let limitBytes: Int

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// A buffer of exactly `byteCount` bytes, reused when one is kept; its content is whatever it held.
    func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let reused = spare.withLock { spare -> UnsafeMutableRawBufferPointer? in
            guard let index = spare.buffers.lastIndex(where: { $0.count == byteCount }) else { return nil }
            spare.bytes -= byteCount
            return spare.buffers.remove(at: index)
        }
        return reused ?? .allocate(byteCount: byteCount, alignment: 64)
    }

    /// A buffer of at least `byteCount` bytes: the next power of two, at least 64 KiB.
    func take(atLeast byteCount: Int) -> UnsafeMutableRawBufferPointer {
        take(byteCount: max(64 << 10, 1 << (Int.bitWidth - max(byteCount - 1, 1).leadingZeroBitCount)))
    }

    /// Keeps `buffer` for the next `take`, or frees it (and the oldest kept) to stay within the limit.
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let freed = spare.withLock { spare -> Spare in
            guard buffer.count <= limitBytes else { return Spare(buffers: [buffer]) }
            spare.buffers.append(buffer)
            spare.bytes += buffer.count
            var freed = Spare()
            while spare.bytes > limitBytes {
                let oldest = spare.buffers.removeFirst()
                spare.bytes -= oldest.count
                freed.buffers.append(oldest)
            }
            return freed
        }
        for buffer in freed.buffers { buffer.deallocate() }
    }
}
