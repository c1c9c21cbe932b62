import BackupModel
import ChunkStore
import Foundation
import KubeClient
import SystemIO

/// Why an entry could not be put into a tar archive; names the object so the user knows which one.
public enum TarError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path is longer than ustar can hold, or has no '/' where it could be split into prefix and name.
    case pathTooLong(path: String, object: String)
    /// The path is empty, absolute, holds a NUL byte or a '.'/'..' component.
    case invalidPath(path: String, object: String, reason: String)
    /// The contents are larger than the 11 octal digits of the size field allow (8 GiB).
    case tooLarge(path: String, object: String, size: Int)
    /// An entry was appended after `finish()`.
    case finished

    public var description: String {
        switch self {
        case .pathTooLong(let path, let object):
            "cannot put \(object) into the tarball: its path '\(path)' is \(path.utf8.count) bytes and ustar holds at most \(TarWriter.maxNameLength) bytes, or a \(TarWriter.maxPrefixLength)-byte prefix and a \(TarWriter.maxNameLength)-byte name split at a '/' (at most \(TarWriter.maxPrefixLength + 1 + TarWriter.maxNameLength) bytes in all)"
        case .invalidPath(let path, let object, let reason):
            "cannot put \(object) into the tarball: its path '\(path)' \(reason)"
        case .tooLarge(let path, let object, let size):
            "cannot put \(object) into the tarball: '\(path)' is \(size) bytes, more than ustar's size field holds"
        case .finished:
            "the tarball is already finished; no more entries can be added"
        }
    }
}

/// Streams a POSIX ustar archive (regular files only) to a file, optionally gzip-compressed.
///
/// Entries are gathered in a buffer and written through `BlockingPool` once it is large, so the cooperative pool
/// never blocks on the disk and memory stays bounded by the buffer plus the entry being added.
public struct TarWriter {
    public static let blockSize = 512
    public static let maxNameLength = 100
    public static let maxPrefixLength = 155

    public let file: FileDescriptor
    private let gzip: GzipEncoder?
    private let flushThreshold: Int
    private var buffer: [UInt8] = []
    private var isFinished = false
    /// Archive bytes handed to the file so far (including those still buffered), before compression.
    public private(set) var size: Int64 = 0
    /// Bytes written to the file so far: `size` after compression, without what is still buffered.
    public private(set) var written: Int64 = 0
    /// Entries added so far.
    public private(set) var entries = 0

    /// - Parameters:
    ///   - gzip: compress the archive into the gzip format (a `.tar.gz`).
    ///   - flushThreshold: buffered bytes that trigger a write.
    public init(file: FileDescriptor, gzip: Bool = false, flushThreshold: Int = 1 << 20) throws(GzipError) {
        self.file = file
        self.gzip = gzip ? try GzipEncoder() : nil
        self.flushThreshold = max(flushThreshold, Self.blockSize)
        buffer.reserveCapacity(self.flushThreshold + Self.blockSize)
    }

    /// Adds a regular file. `object` names what the entry is for in error messages (default: the path).
    public mutating func append(
        path: String, contents: [UInt8], mode: UInt32 = 0o644, modified: Date = Date(timeIntervalSince1970: 0),
        object: String? = nil
    ) async throws {
        guard !isFinished else { throw TarError.finished }
        let header = try Self.header(
            path: path, size: contents.count, mode: mode,
            modified: Int64(max(0, modified.timeIntervalSince1970.rounded(.down))), object: object ?? "'\(path)'")
        buffer.append(contentsOf: header)
        buffer.append(contentsOf: contents)
        let padding = Self.padding(for: contents.count)
        buffer.append(contentsOf: repeatElement(0, count: padding))
        size += Int64(header.count + contents.count + padding)
        entries += 1
        if buffer.count >= flushThreshold { try await flush() }
    }

    /// Writes the two zero blocks that end an archive and flushes everything to the file (no fsync).
    public mutating func finish() async throws {
        guard !isFinished else { throw TarError.finished }
        isFinished = true
        buffer.append(contentsOf: repeatElement(0, count: 2 * Self.blockSize))
        size += Int64(2 * Self.blockSize)
        try await flush(final: true)
    }

    private mutating func flush(final: Bool = false) async throws {
        guard !buffer.isEmpty else { return }
        var bytes = buffer
        buffer.removeAll(keepingCapacity: true)
        if let gzip {
            bytes = try gzip.compress(bytes)
            if final { bytes += try gzip.finish() }
        }
        written += Int64(bytes.count)
        let output = bytes
        let file = self.file
        try await BlockingPool.shared.run { try output.withUnsafeBytes { try file.write($0) } }
    }

    static func padding(for count: Int) -> Int { (blockSize - count % blockSize) % blockSize }

    /// The 512-byte ustar header of a regular file.
    public static func header(path: String, size: Int, mode: UInt32, modified: Int64, object: String) throws(TarError)
        -> [UInt8]
    {
        let (prefix, name) = try split(path, object: object)
        guard size >= 0, size < 1 << 33 else { throw .tooLarge(path: path, object: object, size: size) }
        var header = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: some Collection<UInt8>, at offset: Int) {
            for (index, byte) in bytes.enumerated() { header[offset + index] = byte }
        }
        /// `width - 1` zero-padded octal digits and a NUL.
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8), at: offset)
            header[offset + width - 1] = 0
        }
        put(name, at: 0)
        octal(Int64(mode & 0o7777), at: 100, width: 8)
        octal(0, at: 108, width: 8)  // uid
        octal(0, at: 116, width: 8)  // gid
        octal(Int64(size), at: 124, width: 12)
        octal(min(max(modified, 0), 0o77777777777), at: 136, width: 12)
        header[156] = UInt8(ascii: "0")  // regular file
        put(Array("ustar\0".utf8), at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("root".utf8), at: 265)  // uname
        put(Array("root".utf8), at: 297)  // gname
        octal(0, at: 329, width: 8)  // devmajor
        octal(0, at: 337, width: 8)  // devminor
        put(prefix, at: 345)
        // The checksum is the byte sum of the header with its own field read as eight spaces.
        put(Array("        ".utf8), at: 148)
        let sum = header.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)  // six digits, NUL
        header[155] = UInt8(ascii: " ")
        return header
    }

    /// Splits a path into ustar's prefix and name fields: the whole path in `name` when it fits, else at the first
    /// '/' that leaves a name of at most 100 bytes, with at most 155 bytes before it.
    static func split(_ path: String, object: String) throws(TarError) -> (prefix: [UInt8], name: [UInt8]) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { throw .invalidPath(path: path, object: object, reason: "is empty") }
        guard !bytes.contains(0) else { throw .invalidPath(path: path, object: object, reason: "holds a NUL byte") }
        guard bytes.first != UInt8(ascii: "/") else {
            throw .invalidPath(path: path, object: object, reason: "is absolute")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false)
        where component == "." || component == ".." || component.isEmpty {
            throw .invalidPath(path: path, object: object, reason: "has an empty, '.' or '..' component")
        }
        if bytes.count <= maxNameLength { return ([], bytes) }
        let slash = UInt8(ascii: "/")
        guard
            let index = bytes.indices.first(where: { bytes[$0] == slash && bytes.count - $0 - 1 <= maxNameLength }),
            index <= maxPrefixLength
        else { throw .pathTooLong(path: path, object: object) }
        return (Array(bytes[..<index]), Array(bytes[(index + 1)...]))
    }
}

/// A backup's objects as Velero lays them out in its tarball (Velero's format 1.1.0): each object at
/// `resources/<resource.group>/namespaces/<ns>/<name>.json` (or `…/cluster/<name>.json`) and again under the
/// directory of its API version, `resources/<resource.group>/<version>-preferredversion/namespaces/<ns>/<name>.json`,
/// as Velero writes objects backed up in the preferred version; and `metadata/version`.
public enum BackupTarball {
    /// The contents of `metadata/version`: Velero's backup format version and a newline.
    public static let formatVersion = "1.1.0\n"
    /// The suffix Velero gives the directory of the preferred API version.
    public static let preferredVersionSuffix = "-preferredversion"

    /// Where an object sits in the tarball: without a version directory (`version` nil), or under one.
    public static func path(of location: ObjectLocation, resource: APIResource, version: String? = nil) -> String {
        let versionDirectory = version.map { "/\($0)" } ?? ""
        if let namespace = location.namespace {
            return
                "resources/\(resource.qualifiedName)\(versionDirectory)/namespaces/\(namespace)/\(location.name).json"
        }
        return "resources/\(resource.qualifiedName)\(versionDirectory)/cluster/\(location.name).json"
    }

    public struct Summary: Sendable, Equatable {
        public var objects: Int
        /// The archive's size before compression.
        public var bytes: Int64
        /// The file's size.
        public var fileBytes: Int64
    }

    /// Writes the tarball of `manifest` to `path`, reading one resource stream at a time, gzip-compressed unless
    /// `gzip` is false. The archive goes to a temporary file beside `path` that is fsynced and renamed into place at
    /// the end, so a failure leaves nothing behind. An existing `path` is replaced only when `overwrite` is set.
    public static func write(
        _ manifest: ResourceManifest, reader: ResourceReader, to path: String, overwrite: Bool, gzip: Bool = true,
        modified: Date? = nil
    ) async throws -> Summary {
        if !overwrite { try await refuseExisting(path) }
        let directory = Path.parent(of: path)
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let temporary = Path.join(directory, ".\(base).tmp-\(Path.randomSuffix())")
        let file = try await BlockingPool.shared.run {
            // It holds the cluster's Secrets: readable by its owner only.
            try FileDescriptor.create(temporary, mode: 0o600, exclusive: true)
        }
        var open = true
        do {
            var writer = try TarWriter(file: file, gzip: gzip)
            let time = modified ?? manifest.completedAt
            try await writer.append(
                path: "metadata/version", contents: Array(formatVersion.utf8), modified: time)
            var objects = 0
            for stream in manifest.streams where !stream.objects.isEmpty {
                let contents = try await reader.objects(in: stream)
                let versionDirectory = stream.resource.version + preferredVersionSuffix
                for (location, bytes) in zip(stream.objects, contents) {
                    let object =
                        "\(stream.resource.qualifiedName) \(location.namespace.map { "\($0)/" } ?? "")\(location.name)"
                    for version in [nil, versionDirectory] {
                        try await writer.append(
                            path: self.path(of: location, resource: stream.resource, version: version),
                            contents: bytes, modified: time, object: object)
                    }
                }
                objects += stream.objects.count
            }
            try await writer.finish()
            try await BlockingPool.shared.run { try file.sync() }
            open = false
            file.close()
            if !overwrite { try await refuseExisting(path) }
            try await BlockingPool.shared.run {
                try FileSystem.rename(temporary, to: path)
                try FileSystem.syncDirectory(directory)
            }
            return Summary(objects: objects, bytes: writer.size, fileBytes: writer.written)
        } catch {
            if open { file.close() }
            try? await BlockingPool.shared.run { try FileSystem.removeFile(temporary) }
            throw error
        }
    }

    private static func refuseExisting(_ path: String) async throws {
        if try await BlockingPool.shared.run({ try FileSystem.statusIfExists(path) }) != nil {
            throw BackupTarballError.outputExists(path)
        }
    }
}

public enum BackupTarballError: Error, CustomStringConvertible, Sendable, Equatable {
    case outputExists(String)

    public var description: String {
        switch self {
        case .outputExists(let path): "'\(path)' already exists; use --force to overwrite it"
        }
    }
}
