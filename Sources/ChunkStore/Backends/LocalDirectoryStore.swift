import Synchronization
import SystemIO

/// A store in a local directory: one file per object, written atomically (temporary file, fsync, rename).
///
/// Directory entries created by renames are made durable in `sync()`, which fsyncs each directory touched since the
/// last sync; that is the barrier a commit waits for before writing the record that names the objects.
public final class LocalDirectoryStore: ObjectStore {
    public let root: String
    public var location: String { root }
    private let pool: BlockingPool
    private let touchedDirectories = Mutex<Set<String>>([])

    /// Opens the store at `root`. With `create`, a missing directory is made; otherwise `checkAccess` reports it.
    public init(root: String, create: Bool = false, pool: BlockingPool = .shared) throws {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.pool = pool
        if create {
            do { try FileSystem.makeDirectories(root) } catch { throw ChunkStoreError.system(error) }
        }
    }

    private func path(_ key: String) throws -> String {
        try ObjectKey.validate(key)
        return root + "/" + key
    }

    public func checkAccess() async throws {
        let root = self.root
        let status = try await pool.run { try FileSystem.statusIfExists(root) }
        guard let status else { throw ChunkStoreError.repositoryNotFound(store: root) }
        guard status.kind == .directory else {
            throw ChunkStoreError.invalidStoreLocation(root, reason: "not a directory")
        }
    }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        let path = try path(key)
        let directory = Path.parent(of: path)
        try await pool.run {
            try bytes.withUnsafeBytes { bytes in
                do {
                    try FileSystem.writeAtomically(path, bytes: bytes, syncDirectory: false)
                } catch let error as SystemError where error.isNotFound {
                    try FileSystem.makeDirectories(directory)
                    try FileSystem.writeAtomically(path, bytes: bytes, syncDirectory: false)
                }
            }
        }
        touchedDirectories.withLock { _ = $0.insert(directory) }
    }

    public func get(_ key: String) async throws -> [UInt8] {
        let path = try path(key)
        do {
            return try await pool.run { try FileSystem.readFile(path) }
        } catch let error as SystemError where error.isNotFound {
            throw ChunkStoreError.objectNotFound(key: key, store: root)
        }
    }

    public func size(of key: String) async throws -> Int? {
        let path = try path(key)
        return try await pool.run { try FileSystem.statusIfExists(path).map { Int($0.size) } }
    }

    public func delete(_ key: String) async throws {
        let path = try path(key)
        try await pool.run { try FileSystem.removeFile(path) }
        touchedDirectories.withLock { _ = $0.insert(Path.parent(of: path)) }
    }

    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        // Walk only the directory that holds the prefix, then filter by the rest of it.
        let directoryPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        if !directoryPart.isEmpty { try ObjectKey.validate(directoryPart) }
        let root = self.root
        var batch: [ObjectInfo] = []
        var stack = [directoryPart]
        while let relative = stack.popLast() {
            let directory = relative.isEmpty ? root : root + "/" + relative
            let names = try await pool.run { () throws -> [(String, FileStatus)] in
                guard try FileSystem.statusIfExists(directory)?.kind == .directory else { return [] }
                return try FileSystem.contentsOfDirectory(directory).compactMap { name in
                    guard !name.hasPrefix(".tmp-"), let status = try FileSystem.statusIfExists(directory + "/" + name)
                    else { return nil }
                    return (name, status)
                }
            }
            // Push subdirectories in reverse so they pop in key order.
            var subdirectories: [String] = []
            for (name, status) in names {
                let key = relative.isEmpty ? name : relative + "/" + name
                if status.kind == .directory {
                    if key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") { subdirectories.append(key) }
                } else if status.kind == .regular && key.hasPrefix(prefix) {
                    batch.append(ObjectInfo(key: key, size: Int(status.size)))
                    if batch.count >= 1000 {
                        try await page(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            }
            stack.append(contentsOf: subdirectories.reversed())
        }
        if !batch.isEmpty { try await page(batch) }
    }

    public func sync() async throws {
        let directories = touchedDirectories.withLock { touched in
            defer { touched.removeAll() }
            return touched
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for directory in directories {
                group.addTask { [pool] in
                    try await pool.run {
                        // A directory that never came to exist (a delete of an absent key) has nothing to flush.
                        do { try FileSystem.syncDirectory(directory) } catch let error as SystemError
                            where error.isNotFound
                        {}
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
