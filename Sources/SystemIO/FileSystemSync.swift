import CSystemShims
import Glibc

extension FileDescriptor {
    /// Flushes every file of the file system this descriptor is on to stable storage (`syncfs(2)`): one call makes
    /// a whole restored tree durable, where fsync would be one call per file. Blocking.
    public func syncFileSystem() throws(SystemError) {
        guard csystem_syncfs(rawValue) == 0 else { throw SystemError("sync file system", path: path) }
    }
}
