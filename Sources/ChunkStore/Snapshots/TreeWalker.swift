import Logging
import SystemIO

/// Lists a directory tree depth-first in sorted order (parents before children), with each path's status.
enum TreeWalker {
    struct Item: Sendable {
        var path: String
        var status: FileStatus
        var target: String?
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
        try walkDirectory(root: root, relative: "", into: &items, logger: logger)
        return items
    }

    private static func walkDirectory(root: String, relative: String, into items: inout [Item], logger: Logger) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(directory)
        } catch {
            throw ChunkStoreError.sourceUnreadable(path: directory, reason: error.description)
        }
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            do {
                let status = try FileSystem.status(full)
                switch status.kind {
                case .regular:
                    items.append(Item(path: path, status: status))
                case .symlink:
                    items.append(Item(path: path, status: status, target: try FileSystem.readSymlink(full)))
                case .directory:
                    items.append(Item(path: path, status: status))
                    try walkDirectory(root: root, relative: path, into: &items, logger: logger)
                case .other:
                    logger.warning("skipping special file '\(full)' (socket, FIFO or device)")
                }
            } catch let error as SystemError where error.isNotFound {
                continue  // removed while we walked
            } catch let error as SystemError {
                throw ChunkStoreError.sourceUnreadable(path: full, reason: error.description)
            }
        }
    }
}
