import Foundation

/// One path in a backed-up tree.
public struct TreeEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, directory, symlink }

    /// Relative, '/'-separated; parents come before their children.
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

    /// Whether `other` (from a previous backup) describes the same, unmodified file.
    func isUnchanged(comparedTo other: TreeEntry) -> Bool {
        kind == .file && other.kind == .file && size == other.size && mtime == other.mtime
            && mtimeNanoseconds == other.mtimeNanoseconds && ctime == other.ctime
            && ctimeNanoseconds == other.ctimeNanoseconds && inode == other.inode && other.chunks != nil
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
