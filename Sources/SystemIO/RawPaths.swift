import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One extended attribute: a name such as `user.comment` and its value, both as the kernel holds them (bytes).
public struct ExtendedAttribute: Sendable, Equatable, Hashable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// The name as text, for messages.
    public var displayName: String { Path.display(name) }
}

/// Who this process runs as.
public enum ProcessIdentity {
    /// Whether the effective user is root, so owners (and with them setuid/setgid bits) can be restored.
    public static var isRoot: Bool { geteuid() == 0 }
}

/// File names are bytes: Linux allows any byte but '/' and NUL, and nothing makes a name valid UTF-8. These helpers
/// keep them bytes from `readdir` to `open`; `String(cString:)` would silently repair them into other names.
extension Path {
    /// Calls `body` with a NUL-terminated copy of `bytes`. Callers refuse embedded NULs first (`containsNUL`).
    @inline(__always)
    public static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        var terminated = bytes
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    /// A readable form of a name or path: itself when it is valid UTF-8, otherwise with each byte that is not
    /// printable ASCII written as `\xNN`. For messages only; never open what this returns.
    public static func display(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.utf8.contains(0) { return text }
        var result = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16)
                result += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}

extension FileSystem {
    /// What `lstat` says of a path given as bytes.
    public static func status(bytes path: [UInt8]) throws(SystemError) -> FileStatus {
        try refuseNUL(path, operation: "stat")
        var info = stat()
        guard Path.withCString(path, { lstat($0, &info) }) == 0 else {
            throw SystemError("stat", path: Path.display(path))
        }
        return FileStatus(info)
    }

    /// The names in a directory as bytes, without "." and "..", sorted bytewise.
    public static func names(inDirectory path: [UInt8]) throws(SystemError) -> [[UInt8]] {
        try refuseNUL(path, operation: "list")
        guard let directory = Path.withCString(path, { opendir($0) }) else {
            throw SystemError("list", path: Path.display(path))
        }
        defer { closedir(directory) }
        return try readNames(directory, path: Path.display(path))
    }

    /// The target of a symlink, as bytes.
    public static func readSymlink(bytes path: [UInt8]) throws(SystemError) -> [UInt8] {
        try refuseNUL(path, operation: "read link")
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = Path.withCString(path) { name in
            buffer.withUnsafeMutableBufferPointer { out in
                out.withMemoryRebound(to: CChar.self) { readlink(name, $0.baseAddress!, $0.count - 1) }
            }
        }
        guard count >= 0 else { throw SystemError("read link", path: Path.display(path)) }
        return Array(buffer[..<count])
    }

    /// Every extended attribute of a path, without following a final symlink, sorted by name. A file system without
    /// extended attributes has none; an attribute removed while it is read is left out.
    public static func extendedAttributes(bytes path: [UInt8]) throws(SystemError) -> [ExtendedAttribute] {
        try refuseNUL(path, operation: "list extended attributes of")
        var attributes: [ExtendedAttribute] = []
        for name in try listAttributeNames(path) {
            if let value = try readAttribute(path, name: name) {
                attributes.append(ExtendedAttribute(name: name, value: value))
            }
        }
        return attributes.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    private static func listAttributeNames(_ path: [UInt8]) throws(SystemError) -> [[UInt8]] {
        while true {
            let size = Path.withCString(path) { llistxattr($0, nil, 0) }
            if size < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP) { return [] }
            guard size >= 0 else { throw SystemError("list extended attributes of", path: Path.display(path)) }
            if size == 0 { return [] }
            var buffer = [UInt8](repeating: 0, count: size)
            let count = Path.withCString(path) { name in
                buffer.withUnsafeMutableBufferPointer { out in
                    out.withMemoryRebound(to: CChar.self) { llistxattr(name, $0.baseAddress!, $0.count) }
                }
            }
            if count < 0 && errno == ERANGE { continue }  // grew between the two calls
            guard count >= 0 else { throw SystemError("list extended attributes of", path: Path.display(path)) }
            return buffer[..<count].split(separator: 0).map(Array.init)
        }
    }

    private static func readAttribute(_ path: [UInt8], name: [UInt8]) throws(SystemError) -> [UInt8]? {
        while true {
            let size = Path.withCString(path) { file in Path.withCString(name) { lgetxattr(file, $0, nil, 0) } }
            if size < 0 && errno == ENODATA { return nil }
            guard size >= 0 else {
                throw SystemError("read extended attribute '\(Path.display(name))' of", path: Path.display(path))
            }
            var buffer = [UInt8](repeating: 0, count: max(size, 1))
            let count = Path.withCString(path) { file in
                Path.withCString(name) { attribute in
                    buffer.withUnsafeMutableBytes { lgetxattr(file, attribute, $0.baseAddress!, size) }
                }
            }
            if count < 0 && errno == ERANGE { continue }
            if count < 0 && errno == ENODATA { return nil }
            guard count >= 0 else {
                throw SystemError("read extended attribute '\(Path.display(name))' of", path: Path.display(path))
            }
            return Array(buffer[..<count])
        }
    }

    static func readNames(_ directory: OpaquePointer, path: String) throws(SystemError) -> [[UInt8]] {
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw SystemError("list", path: path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func refuseNUL(_ bytes: [UInt8], operation: String) throws(SystemError) {
        if bytes.contains(0) { throw SystemError(operation, path: Path.display(bytes), code: EINVAL) }
    }
}
