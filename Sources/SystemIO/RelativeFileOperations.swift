import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Calls relative to an open directory (the `*at` family) and calls on an open file (`f*`).
///
/// A restore goes through these so that it never resolves a path string whose components someone could swap for a
/// symlink while it runs: each directory is opened from its already-open parent with `O_NOFOLLOW`, and a file's
/// owner, mode, attributes and times are set on its open descriptor. Names are single components, as bytes.
extension FileDescriptor {
    /// Opens the directory at `path`, refusing a symlink as its last component.
    public static func openDirectoryNoFollow(_ path: String) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError("open directory", path: path) }
        return FileDescriptor(rawValue: fd, path: path)
    }

    /// Opens an existing file, given as bytes, for reading without following a final symlink.
    public static func openForReading(bytes path: [UInt8]) throws(SystemError) -> FileDescriptor {
        try FileSystem.refuseNUL(path, operation: "open")
        let fd = Path.withCString(path) { name in
            retryingOnInterrupt { Glibc.open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        }
        guard fd >= 0 else { throw SystemError("open", path: Path.display(path)) }
        return FileDescriptor(rawValue: fd, path: Path.display(path))
    }

    /// The path of `name` inside this directory, for messages.
    public func displayPath(_ name: [UInt8]) -> String {
        path.hasSuffix("/") ? path + Path.display(name) : path + "/" + Path.display(name)
    }

    private func failure(_ operation: String, _ name: [UInt8]) -> SystemError {
        let code = errno
        return SystemError(operation, path: displayPath(name), code: code)
    }

    private func checked(_ name: [UInt8], _ operation: String) throws(SystemError) {
        if name.isEmpty || name.contains(0) || name.contains(UInt8(ascii: "/")) {
            throw SystemError(operation, path: displayPath(name), code: EINVAL)
        }
    }

    /// Opens the subdirectory `name`; a symlink there is refused (ENOTDIR or ELOOP), never followed.
    public func openDirectory(at name: [UInt8]) throws(SystemError) -> FileDescriptor {
        try checked(name, "open directory")
        let fd = Path.withCString(name) { name in
            retryingOnInterrupt { openat(rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard fd >= 0 else { throw failure("open directory", name) }
        return FileDescriptor(rawValue: fd, path: displayPath(name))
    }

    /// Creates the file `name` for writing; fails if anything (a file, a symlink) is already there.
    public func createFile(at name: [UInt8], mode: mode_t = 0o600) throws(SystemError) -> FileDescriptor {
        try checked(name, "create")
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let fd = Path.withCString(name) { name in retryingOnInterrupt { openat(rawValue, name, flags, mode) } }
        guard fd >= 0 else { throw failure("create", name) }
        return FileDescriptor(rawValue: fd, path: displayPath(name))
    }

    /// Opens the existing file `name` for writing in place, refusing a symlink. `O_NONBLOCK` keeps a FIFO put there
    /// from blocking the open; callers check the kind with `status()`.
    public func openForWriting(at name: [UInt8]) throws(SystemError) -> FileDescriptor {
        try checked(name, "open")
        let flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let fd = Path.withCString(name) { name in retryingOnInterrupt { openat(rawValue, name, flags) } }
        guard fd >= 0 else { throw failure("open", name) }
        return FileDescriptor(rawValue: fd, path: displayPath(name))
    }

    /// Creates the subdirectory `name`; returns false if something is already there (which may not be a directory).
    @discardableResult
    public func makeDirectory(at name: [UInt8], mode: mode_t = 0o700) throws(SystemError) -> Bool {
        try checked(name, "create directory")
        if Path.withCString(name, { mkdirat(rawValue, $0, mode) }) == 0 { return true }
        if errno == EEXIST { return false }
        throw failure("create directory", name)
    }

    /// What is at `name` (a symlink is not followed), or nil when nothing is.
    public func status(at name: [UInt8]) throws(SystemError) -> FileStatus? {
        try checked(name, "stat")
        var info = stat()
        if Path.withCString(name, { fstatat(rawValue, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 {
            return FileStatus(info)
        }
        if errno == ENOENT { return nil }
        throw failure("stat", name)
    }

    /// What this open file is.
    public func status() throws(SystemError) -> FileStatus {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw SystemError("stat", path: path) }
        return FileStatus(info)
    }

    /// The names in this directory as bytes, without "." and "..", sorted bytewise.
    public func names() throws(SystemError) -> [[UInt8]] {
        let copy = dup(rawValue)
        guard copy >= 0 else { throw SystemError("list", path: path) }
        guard let directory = fdopendir(copy) else {
            let error = SystemError("list", path: path)
            _ = Glibc.close(copy)
            throw error
        }
        defer { closedir(directory) }
        rewinddir(directory)
        return try FileSystem.readNames(directory, path: path)
    }

    /// Removes the file or symlink `name` (not a directory).
    public func removeFile(at name: [UInt8]) throws(SystemError) {
        try checked(name, "remove")
        guard Path.withCString(name, { unlinkat(rawValue, $0, 0) }) == 0 else { throw failure("remove", name) }
    }

    /// Creates the symlink `name` pointing at `target`.
    public func makeSymlink(at name: [UInt8], target: [UInt8]) throws(SystemError) {
        try checked(name, "create symlink")
        if target.isEmpty || target.contains(0) {
            throw SystemError("create symlink", path: displayPath(name), code: EINVAL)
        }
        let result = Path.withCString(target) { target in Path.withCString(name) { symlinkat(target, rawValue, $0) } }
        guard result == 0 else { throw failure("create symlink", name) }
    }

    /// Sets the owner of `name` without following a symlink there.
    public func setOwner(at name: [UInt8], owner: UInt32, group: UInt32) throws(SystemError) {
        try checked(name, "chown")
        let result = Path.withCString(name) { fchownat(rawValue, $0, uid_t(owner), gid_t(group), AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw failure("chown", name) }
    }

    /// Sets the modification (and access) time of `name` without following a symlink there.
    public func setModificationTime(at name: [UInt8], seconds: Int64, nanoseconds: Int64) throws(SystemError) {
        try checked(name, "set times of")
        let time = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        let times = [time, time]
        let result = Path.withCString(name) { utimensat(rawValue, $0, times, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw failure("set times of", name) }
    }

    /// Sets an extended attribute on `name` itself, even when it is a symlink. There is no `lsetxattr` relative to
    /// a directory descriptor before Linux 6.13's `setxattrat`, so this goes through `/proc/self/fd/N/name`: the
    /// kernel resolves `N` to this (already open) directory, not to a path someone could swap.
    public func setExtendedAttribute(at name: [UInt8], _ attribute: ExtendedAttribute) throws(SystemError) {
        try checked(name, "set extended attribute of")
        try Self.refuseBadAttributeName(attribute, path: displayPath(name))
        let path = Array("/proc/self/fd/\(rawValue)/".utf8) + name
        let result = Path.withCString(path) { file in
            Path.withCString(attribute.name) { key in
                attribute.value.withUnsafeBytes { lsetxattr(file, key, $0.baseAddress, $0.count, 0) }
            }
        }
        guard result == 0 else {
            throw failure("set extended attribute '\(attribute.displayName)' of", name)
        }
    }

    /// Sets this file's owner.
    public func setOwner(owner: UInt32, group: UInt32) throws(SystemError) {
        guard fchown(rawValue, uid_t(owner), gid_t(group)) == 0 else { throw SystemError("chown", path: path) }
    }

    /// Sets this file's permission bits (including setuid, setgid and sticky).
    public func setMode(_ mode: UInt32) throws(SystemError) {
        guard fchmod(rawValue, mode_t(mode & 0o7777)) == 0 else { throw SystemError("chmod", path: path) }
    }

    /// Sets this file's modification (and access) time.
    public func setModificationTime(seconds: Int64, nanoseconds: Int64) throws(SystemError) {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        guard futimens(rawValue, [time, time]) == 0 else { throw SystemError("set times of", path: path) }
    }

    /// Sets one extended attribute on this file.
    public func setExtendedAttribute(_ attribute: ExtendedAttribute) throws(SystemError) {
        try Self.refuseBadAttributeName(attribute, path: path)
        let result = Path.withCString(attribute.name) { key in
            attribute.value.withUnsafeBytes { fsetxattr(rawValue, key, $0.baseAddress, $0.count, 0) }
        }
        guard result == 0 else { throw SystemError("set extended attribute '\(attribute.displayName)' of", path: path) }
    }

    private static func refuseBadAttributeName(_ attribute: ExtendedAttribute, path: String) throws(SystemError) {
        if attribute.name.isEmpty || attribute.name.contains(0) {
            throw SystemError("set extended attribute '\(attribute.displayName)' of", path: path, code: EINVAL)
        }
    }
}
