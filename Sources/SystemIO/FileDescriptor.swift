#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open file. Every method blocks: call them from `BlockingPool`, never from a task directly.
public struct FileDescriptor: Sendable {
    public let rawValue: Int32
    /// The path it was opened with, for error messages.
    public let path: String

    /// Opens an existing file for reading.
    public static func openForReading(_ path: String) throws(SystemError) -> FileDescriptor {
        try open(path, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    }

    /// Creates (or truncates) a file for writing with `mode` permission bits.
    public static func create(_ path: String, mode: mode_t = 0o644, exclusive: Bool = false) throws(SystemError)
        -> FileDescriptor
    {
        try open(path, flags: O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), mode: mode)
    }

    /// Opens a directory so it can be fsynced after a rename inside it.
    public static func openDirectory(_ path: String) throws(SystemError) -> FileDescriptor {
        try open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    private static func open(_ path: String, flags: Int32, mode: mode_t = 0) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { Glibc.open(path, flags, mode) }
        guard fd >= 0 else { throw SystemError("open", path: path) }
        return FileDescriptor(rawValue: fd, path: path)
    }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        let count = retryingOnInterrupt { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
        guard count >= 0 else { throw SystemError("read", path: path) }
        return count
    }

    /// Fills `buffer` unless the file ends first; returns how many bytes were read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads up to `buffer.count` bytes at `offset` (pread), without moving the file position; fewer only at the end
    /// of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = retryingOnInterrupt {
                pread(rawValue, buffer.baseAddress! + total, buffer.count - total, off_t(offset) + off_t(total))
            }
            guard count >= 0 else { throw SystemError("read", path: path) }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads the whole rest of the file, sized by `fstat` so a typical read is one allocation and one call.
    public func readToEnd() throws(SystemError) -> [UInt8] {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw SystemError("stat", path: path) }
        var result: [UInt8] = []
        var capacity = max(Int(info.st_size) + 1, 4096)
        while true {
            let start = result.count
            var failure: SystemError?
            let chunk = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                do throws(SystemError) {
                    count = try readFully(into: UnsafeMutableRawBufferPointer(buffer))
                } catch {
                    failure = error
                    count = 0
                }
            }
            if let failure { throw failure }
            if start == 0 { result = chunk } else { result.append(contentsOf: chunk) }
            if chunk.count < capacity { return result }
            capacity *= 2
        }
    }

    /// Writes all of `bytes` at `offset`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let count = retryingOnInterrupt {
                pwrite(rawValue, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            guard count > 0 else { throw SystemError("write", path: path) }
            done += count
        }
    }

    /// Appends all of `bytes` at the current position.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let count = retryingOnInterrupt { Glibc.write(rawValue, bytes.baseAddress! + done, bytes.count - done) }
            guard count > 0 else { throw SystemError("write", path: path) }
            done += count
        }
    }

    /// Appends all of `bytes` at the current position.
    public func write(_ bytes: [UInt8]) throws(SystemError) {
        try bytes.withUnsafeBytes { bytes in Result { () throws(SystemError) in try write(bytes) } }.get()
    }

    /// Flushes the file's data and metadata to stable storage.
    public func sync() throws(SystemError) {
        guard retryingOnInterrupt({ fsync(rawValue) }) == 0 else { throw SystemError("fsync", path: path) }
    }

    /// Sets the file's length.
    public func truncate(to length: Int64) throws(SystemError) {
        guard ftruncate(rawValue, off_t(length)) == 0 else { throw SystemError("truncate", path: path) }
    }

    public func close() {
        _ = Glibc.close(rawValue)
    }
}

@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

extension FileDescriptor {
    /// Opens an existing file for writing in place (no truncation).
    public static func openForWriting(_ path: String) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { Glibc.open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard fd >= 0 else { throw SystemError("open", path: path) }
        return FileDescriptor(rawValue: fd, path: path)
    }
}
