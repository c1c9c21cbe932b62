import CSystemShims
import Glibc

extension FileDescriptor {
    /// Starts writing the file's dirty pages in `range` (nil: the whole file) to storage without waiting
    /// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`): a file written piece by piece and fsynced at the end then
    /// finds most of it written already, the disk having worked while later pieces were decoded. Advisory: a failure
    /// here is left to the fsync to report.
    public func startWriteback(_ range: Range<Int64>? = nil) {
        _ = csystem_start_writeback(rawValue, range?.lowerBound ?? 0, range.map { Int64($0.count) } ?? 0)
    }
}
