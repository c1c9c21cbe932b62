import Logging
import SystemIO

/// Lists a directory tree depth-first in sorted order (parents before children), with each path's status, owner
/// and extended attributes. Names stay bytes throughout, so a name that is not UTF-8 is listed exactly, not
/// repaired into another name or dropped.
enum TreeWalker {
    struct Item: Sendable {
        /// Relative to the root, '/'-separated.
        var path: [UInt8]
        var status: FileStatus
        var target: [UInt8]?
        var attributes: [ExtendedAttribute] = []
    }

    /// Blocking: call from the pool. Sockets, FIFOs and devices are skipped with a warning.
    static func walk(root: String, logger: Logger) throws -> [Item] {
        let rootStatus: FileStatus
        do {
            rootStatus = try FileSystem.status(root)
        } catch {
            throw ChunkStoreError.sourceUnreadable(path: root, reason: error.description)
        }
        guard rootStatus.kind == .directory else {
            throw ChunkStoreError.sourceUnreadable(path: root, reason: "not a directory")
        }
        var items: [Item] = []
        try walkDirectory(root: Array(root.utf8), relative: [], into: &items, logger: logger)
        return items
    }

    private static func walkDirectory(root: [UInt8], relative: [UInt8], into items: inout [Item], logger: Logger)
        throws
    {
        let slash = UInt8(ascii: "/")
        let directory = relative.isEmpty ? root : root + [slash] + relative
        let names: [[UInt8]]
        do {
            names = try FileSystem.names(inDirectory: directory)
        } catch {
            throw ChunkStoreError.sourceUnreadable(path: Path.display(directory), reason: error.description)
        }
        for name in names {
            let path = relative.isEmpty ? name : relative + [slash] + name
            let full = root + [slash] + path
            do {
                let status = try FileSystem.status(bytes: full)
                switch status.kind {
                case .regular:
                    items.append(Item(path: path, status: status, attributes: try attributes(full)))
                case .symlink:
                    items.append(
                        Item(
                            path: path, status: status, target: try FileSystem.readSymlink(bytes: full),
                            attributes: try attributes(full)))
                case .directory:
                    items.append(Item(path: path, status: status, attributes: try attributes(full)))
                    try walkDirectory(root: root, relative: path, into: &items, logger: logger)
                case .other:
                    logger.warning("skipping special file '\(Path.display(full))' (socket, FIFO or device)")
                }
            } catch let error as SystemError where error.isNotFound {
                continue  // removed while we walked
            } catch let error as SystemError {
                throw ChunkStoreError.sourceUnreadable(path: Path.display(full), reason: error.description)
            }
        }
    }

    private static func attributes(_ path: [UInt8]) throws(SystemError) -> [ExtendedAttribute] {
        try FileSystem.extendedAttributes(bytes: path)
    }
}
