import Foundation
import SystemIO

/// One path in a backed-up tree.
///
/// Names are bytes. A path (or symlink target) that is valid UTF-8 is stored in `path` (`target`) as before; one
/// that is not is stored exactly in `pathBytes` (`targetBytes`, base64), with a readable `\xNN`-escaped form in
/// `path` for listings. Use `rawPath` and `rawTarget` to act on them. `uid`, `gid` and `xattrs` are absent in
/// manifests written before they were recorded; `xattrs` is also absent when a path has none.
public struct TreeEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, directory, symlink }

    /// One extended attribute; `nameBytes` holds the name when it is not valid UTF-8.
    public struct Attribute: Codable, Sendable, Equatable {
        public var name: String
        public var nameBytes: Base64Bytes?
        public var value: Base64Bytes

        public init(name: [UInt8], value: [UInt8]) {
            let text = String(validating: name, as: UTF8.self)
            self.name = text ?? Path.display(name)
            self.nameBytes = text == nil ? Base64Bytes(name) : nil
            self.value = Base64Bytes(value)
        }

        /// The name as bytes.
        public var rawName: [UInt8] { nameBytes?.bytes ?? Array(name.utf8) }
    }

    /// Relative, '/'-separated; parents come before their children. Readable only when not valid UTF-8: see
    /// `rawPath`.
    public var path: String
    public var kind: Kind
    public var mode: UInt32
    public var size: Int64
    public var mtime: Int64
    public var mtimeNanoseconds: Int64
    /// ctime and inode let the next backup recognise an unchanged file without reading it.
    public var ctime: Int64
    public var ctimeNanoseconds: Int64
    public var inode: UInt64
    public var target: String?
    public var chunks: [ChunkRef]?
    /// The path's exact bytes, present only when they are not valid UTF-8.
    public var pathBytes: Base64Bytes? = nil
    /// The symlink target's exact bytes, present only when they are not valid UTF-8.
    public var targetBytes: Base64Bytes? = nil
    /// The owner's user and group ids.
    public var uid: UInt32? = nil
    public var gid: UInt32? = nil
    /// Extended attributes, sorted by name; nil when there are none.
    public var xattrs: [Attribute]? = nil

    /// The path as bytes, as the file system names it. Setting it fills `path` and `pathBytes`.
    public var rawPath: [UInt8] {
        get { pathBytes?.bytes ?? Array(path.utf8) }
        set {
            let text = String(validating: newValue, as: UTF8.self)
            path = text ?? Path.display(newValue)
            pathBytes = text == nil ? Base64Bytes(newValue) : nil
        }
    }

    /// The symlink target as bytes. Setting it fills `target` and `targetBytes`.
    public var rawTarget: [UInt8]? {
        get { targetBytes?.bytes ?? target.map { Array($0.utf8) } }
        set {
            guard let newValue else {
                target = nil
                targetBytes = nil
                return
            }
            let text = String(validating: newValue, as: UTF8.self)
            target = text ?? Path.display(newValue)
            targetBytes = text == nil ? Base64Bytes(newValue) : nil
        }
    }

    /// Whether `other` (from a previous backup) describes the same, unmodified file.
    func isUnchanged(comparedTo other: TreeEntry) -> Bool {
        kind == .file && other.kind == .file && size == other.size && mtime == other.mtime
            && mtimeNanoseconds == other.mtimeNanoseconds && ctime == other.ctime
            && ctimeNanoseconds == other.ctimeNanoseconds && inode == other.inode && other.chunks != nil
    }
}

/// Bytes stored in a manifest as one base64 string.
public struct Base64Bytes: Codable, Sendable, Equatable, Hashable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let data = Data(base64Encoded: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not base64")
        }
        bytes = Array(data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(bytes).base64EncodedString())
    }
}

/// A tree's entries, serialized as JSON lines so that unchanged runs of entries chunk (and dedup) identically.
public enum TreeManifest {
    public static func encode(_ entries: [TreeEntry]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [UInt8] = []
        for entry in entries {
            out.append(contentsOf: try encoder.encode(entry))
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    public static func decode(_ bytes: [UInt8], key: String) throws -> [TreeEntry] {
        let decoder = JSONDecoder()
        var entries: [TreeEntry] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            do {
                entries.append(try decoder.decode(TreeEntry.self, from: Data(line)))
            } catch {
                throw ChunkStoreError.corruptRecord(key: key, reason: "manifest line does not parse: \(error)")
            }
        }
        return entries
    }
}

/// The committed record of one directory-tree backup (`snapshots/<name>.json`).
public struct Snapshot: Codable, Sendable, Equatable {
    public static func key(_ name: String) -> String { "snapshots/\(name).json" }

    public var name: String
    public var source: String
    public var hostname: String
    public var createdAt: Date
    public var parent: String?
    /// The chunks of the JSON-lines manifest.
    public var manifest: [ChunkRef]
    public var summary: Summary
    /// This commit's identity in the reference state (`CommitID`); nil only in records written before it existed
    /// (garbage collection gives those one when it adopts them).
    public var commit: String?
    /// The commit of the backup this snapshot holds a volume of, so it expires with that backup even when the
    /// backup failed or its process died before recording its volumes.
    public var backupCommit: String?

    /// The snapshot's identity in the reference state.
    public var owner: ReferenceOwner? { commit.map { .snapshot(name, commit: $0) } }

    public struct Summary: Codable, Sendable, Equatable {
        public var files: Int
        public var directories: Int
        public var symlinks: Int
        public var unchangedFiles: Int
        public var logicalBytes: Int64
        public var newPlainBytes: Int64
        public var newStoredBytes: Int64
        public var newChunks: Int
        public var reusedChunks: Int
        public var seconds: Double
    }
}
