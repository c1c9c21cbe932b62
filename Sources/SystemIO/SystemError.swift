#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call, naming the operation and the path so the user can act on it.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was attempted, e.g. "open" or "rename".
    public let operation: String
    /// The file the call was about.
    public let path: String
    /// The `errno` the call set.
    public let code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "cannot \(operation) '\(path)': \(String(cString: strerror(code)))"
    }

    /// The path does not exist.
    public var isNotFound: Bool { code == ENOENT }

    /// An open with `O_NOFOLLOW` (and `O_DIRECTORY`) met a symlink or something that is not a directory.
    public var isSymlinkOrNotDirectory: Bool { code == ELOOP || code == ENOTDIR }
}
