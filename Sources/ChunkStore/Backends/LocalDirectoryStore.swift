import Foundation
import Synchronization
import SystemIO

/// A store in a local directory: one file per object, written atomically (temporary file, fsync, rename).
///
/// Directory entries created by renames are made durable in `sync()`, which fsyncs each directory touched since the
/// last sync; that is the barrier a commit waits for before writing the record that names the objects. A directory
/// the store had to create is itself an entry of its parent, so the parent is fsynced too.
///
/// Backups hold every Secret of a cluster: directories are created 0700 and files 0600. A temporary file is written
/// beside its object (`.tmp-<random>`): a rename within one directory takes only that directory's lock, while on
/// Linux a rename across directories also takes the file system's single rename lock, which every chunk write of a
/// backup would then share. Killed writers' leftovers are removed by `removeInterruptedWrites`, which walks the
/// store, so only the full-scan orphan sweep calls it.
public final class LocalDirectoryStore: ObjectStore {
    public let root: String
    public var location: String { root }
    private let pool: BlockingPool
    /// fsync of one directory (tests observe it).
    let directorySync: @Sendable (String) throws -> Void
    /// Directories with entries not yet fsynced, each with the generation of its latest change. A sync flushes the
    /// directories it saw and then drops only the entries nobody changed meanwhile, so a sync running beside another
    /// never returns before the directories it depends on are flushed (each sync flushes what it saw itself).
    private let dirty = Mutex<(generation: UInt64, directories: [String: UInt64])>((0, [:]))

    public static let directoryMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    /// Opens the store at `root`. With `create`, a missing directory is made; otherwise `checkAccess` reports it.
    public convenience init(root: String, create: Bool = false, pool: BlockingPool = .shared) throws {
        try self.init(root: root, create: create, pool: pool, directorySync: { try FileSystem.syncDirectory($0) })
    }

    init(
        root: String, create: Bool, pool: BlockingPool, directorySync: @escaping @Sendable (String) throws -> Void
    ) throws {
        self.directorySync = directorySync
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.pool = pool
        if create {
            do {
                let created = try FileSystem.makeDirectories(root, mode: Self.directoryMode)
                if let first = created.first { try FileSystem.syncDirectory(Path.parent(of: first)) }
                for directory in created { try FileSystem.syncDirectory(directory) }
            } catch { throw ChunkStoreError.system(error) }
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

    private func markDirty(_ directories: some Sequence<String>) {
        dirty.withLock { state in
            for directory in directories {
                state.generation += 1
                state.directories[directory] = state.generation
            }
        }
    }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        try await put(key, parts: [bytes])
    }

    /// Writes the parts straight into the object's file: a pack is never joined into one buffer.
    public func put(_ key: String, parts: [[UInt8]]) async throws {
        try await write(key, parts: parts)
    }

    /// Its directory is left out of the next barrier. Unless it may be torn after a power cut, the file is still
    /// fsynced before its rename (an entry that survives names whole content). Directories created on the way are
    /// always made durable.
    public func putVolatile(_ key: String, _ bytes: [UInt8], tornAfterPowerCut: Bool) async throws {
        try await write(key, parts: [bytes], volatile: true, syncFile: !tornAfterPowerCut)
    }

    /// Makes each prefix's directory (0700); the entries of those it made are flushed with the next barrier.
    public func makeDirectories(_ keyPrefixes: [String]) async throws {
        let paths = try keyPrefixes.map { try path($0.hasSuffix("/") ? String($0.dropLast()) : $0) }
        let created = try await pool.run { () throws -> [String] in
            try paths.flatMap { try FileSystem.makeDirectories($0, mode: Self.directoryMode) }
        }
        // An empty directory has no entries of its own to flush; its entry in its parent does.
        markDirty(Set(created.map { Path.parent(of: $0) }))
    }

    private func write(_ key: String, parts: [[UInt8]], volatile: Bool = false, syncFile: Bool = true) async throws {
        let path = try path(key)
        let directory = Path.parent(of: path)
        let created = try await pool.run { () throws -> [String] in
            do {
                try FileSystem.writeAtomically(
                    path, parts: parts, mode: Self.fileMode, syncFile: syncFile, syncDirectory: false)
                return []
            } catch let error as SystemError where error.isNotFound {
                let created = try FileSystem.makeDirectories(directory, mode: Self.directoryMode)
                try FileSystem.writeAtomically(
                    path, parts: parts, mode: Self.fileMode, syncFile: syncFile, syncDirectory: false)
                return created
            }
        }
        // The rename's directory, and for each directory created here its parent (which holds its entry).
        markDirty((volatile ? [] : [directory]) + created.map { Path.parent(of: $0) } + created)
    }

    public func get(_ key: String) async throws -> [UInt8] {
        let path = try path(key)
        do {
            return try await pool.run { try FileSystem.readFile(path) }
        } catch let error as SystemError where error.isNotFound {
            throw ChunkStoreError.objectNotFound(key: key, store: root)
        }
    }

    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        let path = try path(key)
        let bytes: [UInt8]
        do {
            bytes = try await pool.run {
                try FileSystem.readRange(path, offset: Int64(range.lowerBound), length: range.count)
            }
        } catch let error as SystemError where error.isNotFound {
            throw ChunkStoreError.objectNotFound(key: key, store: root)
        }
        guard bytes.count == range.count else {
            let size = try await self.size(of: key) ?? 0
            throw ChunkStoreError.shortRead(key: key, store: root, wanted: range, size: size)
        }
        return bytes
    }

    public func size(of key: String) async throws -> Int? {
        let path = try path(key)
        return try await pool.run { try FileSystem.statusIfExists(path).map { Int($0.size) } }
    }

    public func delete(_ key: String) async throws {
        let path = try path(key)
        try await pool.run { try FileSystem.removeFile(path) }
        markDirty([Path.parent(of: path)])
    }

    /// The file was fsynced before its rename (a put not torn after a power cut); its entry is flushed next.
    public func makeDurableAtNextSync(_ key: String) async throws {
        markDirty([Path.parent(of: try path(key))])
    }

    public func deleteVolatile(_ key: String) async throws {
        let path = try path(key)
        try await pool.run { try FileSystem.removeFile(path) }
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
                    // The backend's own temporary files.
                    guard !name.hasPrefix(".tmp"), let status = try FileSystem.statusIfExists(directory + "/" + name)
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
                    let modified = Date(
                        timeIntervalSince1970: Double(status.modificationSeconds)
                            + Double(status.modificationNanoseconds) / 1e9)
                    batch.append(ObjectInfo(key: key, size: Int(status.size), modified: modified))
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
        let seen = dirty.withLock { $0.directories }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for directory in seen.keys {
                group.addTask { [pool, directorySync] in
                    try await pool.run {
                        // A directory that never came to exist (a delete of an absent key) has nothing to flush.
                        do { try directorySync(directory) } catch let error as SystemError
                            where error.isNotFound
                        {}
                    }
                }
            }
            try await group.waitForAll()
        }
        dirty.withLock { state in
            for (directory, generation) in seen where state.directories[directory] == generation {
                state.directories[directory] = nil
            }
        }
    }

    /// Removes temporary files that killed writers left, once older than `age` (a live writer's temporary file
    /// exists for milliseconds). Walks every directory of the store. Returns how many were removed.
    public func removeInterruptedWrites(olderThan age: Duration) async throws -> Int {
        let root = self.root
        let cutoff = Date().timeIntervalSince1970 - Double(age.components.seconds)
        return try await pool.run { () throws -> Int in
            var removed = 0
            var stack = [root]
            while let directory = stack.popLast() {
                for name in try FileSystem.contentsOfDirectory(directory) {
                    let path = directory + "/" + name
                    guard let status = try FileSystem.statusIfExists(path) else { continue }
                    if status.kind == .directory {
                        stack.append(path)
                    } else if name.hasPrefix(".tmp-"), Double(status.modificationSeconds) < cutoff {
                        try FileSystem.removeFile(path)
                        removed += 1
                    }
                }
            }
            return removed
        }
    }
}
