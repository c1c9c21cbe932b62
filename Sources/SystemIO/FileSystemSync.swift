import CSystemShims
import Glibc

extension FileDescriptor {
    /// Flushes every file of the file system this descriptor is on to stable storage (`syncfs(2)`): one call makes
    /// a whole restored tree durable, where fsync would be one call per file. Blocking.
    public func syncFileSystem() throws(SystemError) {
        guard csystem_syncfs(rawValue) == 0 else { throw SystemError("sync file system", path: path) }
    }

    /// Starts writing the file's dirty pages in `range` (nil: the whole file) to storage without waiting
    /// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`): a tree restored piece by piece and made durable at the end
    /// with one `syncFileSystem` then finds most of it written already, the disk having worked while later pieces
    /// were decoded. Advisory: a failure here is left to the final sync to report.
    public func startWriteback(_ range: Range<Int64>? = nil) {
        _ = csystem_start_writeback(rawValue, range?.lowerBound ?? 0, range.map { Int64($0.count) } ?? 0)
    }
}
