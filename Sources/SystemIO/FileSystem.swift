#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `lstat` says of a path.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symlink, other }
    public var kind: Kind
    public var size: Int64
    public var mode: UInt32
    public var device: UInt64
    public var inode: UInt64
    public var modificationSeconds: Int64
    public var modificationNanoseconds: Int64
    public var changeSeconds: Int64
    public var changeNanoseconds: Int64
    /// The owning user and group ids.
    public var owner: UInt32
    public var group: UInt32

    init(_ info: stat) {
        kind =
            switch info.st_mode & S_IFMT {
            case S_IFREG: .regular
            case S_IFDIR: .directory
            case S_IFLNK: .symlink
            default: .other
            }
        size = Int64(info.st_size)
        mode = UInt32(info.st_mode & 0o7777)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        modificationSeconds = Int64(info.st_mtim.tv_sec)
        modificationNanoseconds = Int64(info.st_mtim.tv_nsec)
        changeSeconds = Int64(info.st_ctim.tv_sec)
        changeNanoseconds = Int64(info.st_ctim.tv_nsec)
        owner = UInt32(info.st_uid)
        group = UInt32(info.st_gid)
    }
}

/// Blocking file-system calls, one thin wrapper each. Call them from `BlockingPool`.
public enum FileSystem {
    public static func status(_ path: String) throws(SystemError) -> FileStatus {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError("stat", path: path) }
        return FileStatus(info)
    }

    /// The status, or nil when nothing is at `path`.
    public static func statusIfExists(_ path: String) throws(SystemError) -> FileStatus? {
        do { return try status(path) } catch  where error.isNotFound { return nil }
    }

    /// The names in a directory, without "." and "..", sorted bytewise so walks are deterministic. A name that is
    /// not valid UTF-8 comes back repaired (U+FFFD), so it cannot be opened again: use `names(inDirectory:)` where
    /// names come from outside this program.
    public static func contentsOfDirectory(_ path: String) throws(SystemError) -> [String] {
        try names(inDirectory: Array(path.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Creates one directory; succeeds if it already exists as a directory.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST, (try? status(path))?.kind == .directory { return }
        throw SystemError("create directory", path: path, code: code)
    }

    /// Creates a directory and any missing parents; returns the directories it created, outermost first (their
    /// parents' entries must be fsynced for the new directories to survive a crash).
    @discardableResult
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) -> [String] {
        if (try? status(path))?.kind == .directory { return [] }
        let parent = Path.parent(of: path)
        var created: [String] = []
        if parent != path && !parent.isEmpty { created = try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) == 0 { return created + [path] }
        try makeDirectory(path, mode: mode)
        return created
    }

    public static func rename(_ from: String, to: String) throws(SystemError) {
        guard Glibc.rename(from, to) == 0 else { throw SystemError("rename", path: "\(from)' to '\(to)") }
    }

    /// Removes a file or symlink; succeeds if it is already gone.
    public static func removeFile(_ path: String) throws(SystemError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("remove", path: path) }
    }

    /// Removes an empty directory.
    public static func removeDirectory(_ path: String) throws(SystemError) {
        guard rmdir(path) == 0 else { throw SystemError("remove directory", path: path) }
    }

    /// Removes a tree; a missing path is not an error. Names are handled as bytes, so any name is removed.
    public static func removeTree(_ path: String) throws(SystemError) {
        try removeTree(bytes: Array(path.utf8))
    }

    private static func removeTree(bytes path: [UInt8]) throws(SystemError) {
        let info: FileStatus
        do { info = try status(bytes: path) } catch  where error.isNotFound { return }
        let display = Path.display(path)
        if info.kind == .directory {
            for name in try names(inDirectory: path) { try removeTree(bytes: path + [UInt8(ascii: "/")] + name) }
            guard Path.withCString(path, { rmdir($0) }) == 0 else {
                throw SystemError("remove directory", path: display)
            }
        } else {
            guard Path.withCString(path, { unlink($0) }) == 0 || errno == ENOENT else {
                throw SystemError("remove", path: display)
            }
        }
    }

    public static func readSymlink(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw SystemError("read link", path: path) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func makeSymlink(_ path: String, target: String) throws(SystemError) {
        guard symlink(target, path) == 0 else { throw SystemError("create symlink", path: path) }
    }

    public static func setMode(_ path: String, mode: UInt32) throws(SystemError) {
        guard chmod(path, mode_t(mode)) == 0 else { throw SystemError("chmod", path: path) }
    }

    /// Sets the modification time (and access time to the same), without following a final symlink.
    public static func setModificationTime(_ path: String, seconds: Int64, nanoseconds: Int64) throws(SystemError) {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        let times = [time, time]
        guard utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw SystemError("set times of", path: path)
        }
    }

    /// Reads a whole small file.
    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let file = try FileDescriptor.openForReading(path)
        defer { file.close() }
        return try file.readToEnd()
    }

    /// Reads `length` bytes at `offset` of a file; fewer when the file ends first.
    public static func readRange(_ path: String, offset: Int64, length: Int) throws(SystemError) -> [UInt8] {
        let file = try FileDescriptor.openForReading(path)
        defer { file.close() }
        var failure: SystemError?
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            do throws(SystemError) {
                count = try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes `bytes` so that `path` is either absent or whole: a temporary file (beside it, or in
    /// `temporaryDirectory` on the same file system), fsync, rename, and an fsync of the directory so the rename
    /// itself survives a crash. The file gets `mode` (before the umask).
    public static func writeAtomically(
        _ path: String, bytes: UnsafeRawBufferPointer, mode: mode_t = 0o644, temporaryDirectory: String? = nil,
        syncDirectory: Bool = true
    ) throws(SystemError) {
        try writeAtomically(
            path, mode: mode, temporaryDirectory: temporaryDirectory, syncDirectory: syncDirectory
        ) { file throws(SystemError) in try file.write(bytes) }
    }

    /// `writeAtomically` of `parts` one after another, without joining them: large parts are written as they are,
    /// runs of small ones gathered into one write.
    public static func writeAtomically(
        _ path: String, parts: [[UInt8]], mode: mode_t = 0o644, syncFile: Bool = true, syncDirectory: Bool = true
    ) throws(SystemError) {
        try writeAtomically(path, mode: mode, syncFile: syncFile, syncDirectory: syncDirectory) {
            file throws(SystemError) in
            let gather = 1 << 20
            var staged: [UInt8] = []
            func flush() throws(SystemError) {
                guard !staged.isEmpty else { return }
                try file.write(staged)
                staged.removeAll(keepingCapacity: true)
            }
            for part in parts {
                if part.count >= gather / 4 {
                    try flush()
                    try file.write(part)
                } else {
                    if staged.count + part.count > gather { try flush() }
                    if staged.isEmpty { staged.reserveCapacity(gather) }
                    staged += part
                }
            }
            try flush()
        }
    }

    /// Writes a new file through `contents` and renames it over `path`, as `writeAtomically(_:bytes:)` does.
    /// Without `syncFile` the file is renamed unflushed: whole to every reader while the machine runs, but possibly
    /// empty or torn after a power cut (for objects whose readers accept that).
    public static func writeAtomically(
        _ path: String, mode: mode_t = 0o644, temporaryDirectory: String? = nil, syncFile: Bool = true,
        syncDirectory: Bool = true, contents: (FileDescriptor) throws(SystemError) -> Void
    ) throws(SystemError) {
        let directory = Path.parent(of: path)
        let temporary = (temporaryDirectory ?? directory) + "/.tmp-" + Path.randomSuffix()
        let file = try FileDescriptor.create(temporary, mode: mode, exclusive: true)
        do {
            defer { file.close() }
            try contents(file)
            if syncFile { try file.sync() }
        } catch {
            try? removeFile(temporary)
            throw error
        }
        do {
            try rename(temporary, to: path)
        } catch {
            try? removeFile(temporary)
            throw error
        }
        if syncDirectory { try self.syncDirectory(directory) }
    }

    /// Flushes a directory's entries (renames, creations) to stable storage.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor.openDirectory(path)
        defer { directory.close() }
        try directory.sync()
    }
}

/// String path helpers ('/'-separated, no Foundation).
public enum Path {
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func join(_ base: String, _ relative: String) -> String {
        if relative.isEmpty { return base }
        return base.hasSuffix("/") ? base + relative : base + "/" + relative
    }

    /// 16 random hex digits for temporary names.
    public static func randomSuffix() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
