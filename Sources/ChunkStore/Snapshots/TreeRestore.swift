import Foundation
import Logging
import SystemIO

/// Restores a snapshot's tree into a directory, byte for byte, with modes, mtimes, symlinks and empty directories.
///
/// Every manifest path is checked before anything is written, and no write goes through a symlink: directories are
/// created (or checked) one component at a time, files are created with O_EXCL, and symlinks are made last, so a
/// manifest cannot smuggle a write outside the target. Files are restored in parallel, their chunks fetched,
/// verified and written at their offsets in parallel.
public struct TreeRestore: Sendable {
    public let repository: Repository
    public var fileConcurrency: Int
    public var progress: TreeProgress
    private let pool: BlockingPool

    public struct Summary: Sendable, Codable, Equatable {
        public var files: Int
        public var directories: Int
        public var symlinks: Int
        public var bytes: Int64
        public var seconds: Double
    }

    public init(
        repository: Repository, fileConcurrency: Int = 8, progress: TreeProgress = TreeProgress(),
        pool: BlockingPool = .shared
    ) {
        self.repository = repository
        self.fileConcurrency = max(1, fileConcurrency)
        self.progress = progress
        self.pool = pool
    }

    /// Restores snapshot `name` into `target`, which must be empty or absent unless `overwrite` is set.
    public func run(snapshot name: String, into target: String, overwrite: Bool = false) async throws -> Summary {
        // Garbage collection waits while a restore reads, so the snapshot cannot be collected under it.
        return try await StoreLock.withLock(.shared, repository: repository, operation: "restore \(name)") {
            try await restoreLocked(snapshot: name, into: target, overwrite: overwrite)
        }
    }

    private func restoreLocked(snapshot name: String, into target: String, overwrite: Bool) async throws -> Summary {
        let started = ContinuousClock.now
        guard let snapshot = try await SnapshotCatalog(repository: repository).snapshot(named: name) else {
            throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
        }
        let entries = try TreeManifest.decode(
            try await repository.readBlob(snapshot.manifest), key: Snapshot.key(name))
        return try await restore(entries: entries, into: target, overwrite: overwrite, started: started)
    }

    /// Restores already-loaded manifest entries (the volume path of a backup uses this too).
    public func restore(entries: [TreeEntry], into target: String, overwrite: Bool, started: ContinuousClock.Instant)
        async throws -> Summary
    {
        for entry in entries {
            try ManifestPath.validate(entry.path)
            if entry.kind == .file {
                let total = (entry.chunks ?? []).reduce(Int64(0)) { $0 + Int64($1.length) }
                guard total == entry.size else {
                    throw ChunkStoreError.unsafeManifestPath(
                        path: entry.path, reason: "chunks hold \(total) bytes but the size is \(entry.size)")
                }
            }
        }
        // A path listed twice, or one beneath a file or symlink entry (e.g. "link" -> /elsewhere plus "link/evil"),
        // cannot be restored faithfully: it would fail halfway with a bare "File exists". Refuse it up front.
        var seen: Set<String> = []
        let nonDirectories = Set(entries.lazy.filter { $0.kind != .directory }.map(\.path))
        for entry in entries {
            guard seen.insert(entry.path).inserted else {
                throw ChunkStoreError.unsafeManifestPath(path: entry.path, reason: "listed more than once")
            }
            var ancestor = ManifestPath.parent(of: entry.path)
            while !ancestor.isEmpty {
                if nonDirectories.contains(ancestor) {
                    throw ChunkStoreError.unsafeManifestPath(
                        path: entry.path, reason: "'\(ancestor)' is not a directory in the manifest")
                }
                ancestor = ManifestPath.parent(of: ancestor)
            }
        }
        let root = TreeBackup.absolute(target)
        progress.setTotal(entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) })
        try await pool.run { try Self.prepare(root: root, entries: entries, overwrite: overwrite) }

        let files = entries.filter { $0.kind == .file }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for entry in files {
                if running == fileConcurrency {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await self.restoreFile(entry, root: root) }
                running += 1
            }
            try await group.waitForAll()
        }
        try await pool.run { try Self.finish(root: root, entries: entries) }
        return Summary(
            files: files.count, directories: entries.count { $0.kind == .directory },
            symlinks: entries.count { $0.kind == .symlink }, bytes: files.reduce(0) { $0 + $1.size },
            seconds: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000)
    }

    /// Checks the target and creates every directory, refusing to pass through anything that is not a real
    /// directory. Blocking.
    static func prepare(root: String, entries: [TreeEntry], overwrite: Bool) throws {
        if let status = try FileSystem.statusIfExists(root) {
            guard status.kind == .directory else {
                throw ChunkStoreError.invalidName(root, reason: "restore target exists and is not a directory")
            }
            if try !overwrite && !FileSystem.contentsOfDirectory(root).isEmpty {
                throw ChunkStoreError.targetNotEmpty(path: root)
            }
        } else {
            try FileSystem.makeDirectories(root)
        }
        var verified: Set<String> = [""]
        func ensureDirectory(_ relative: String, for entry: String) throws {
            if verified.contains(relative) { return }
            try ensureDirectory(ManifestPath.parent(of: relative), for: entry)
            let full = root + "/" + relative
            switch try FileSystem.statusIfExists(full)?.kind {
            case nil: try FileSystem.makeDirectory(full, mode: 0o700)
            case .directory: break
            case .symlink:
                throw ChunkStoreError.unsafeManifestPath(
                    path: entry, reason: "'\(relative)' is a symlink in the target")
            default:
                throw ChunkStoreError.unsafeManifestPath(
                    path: entry, reason: "'\(relative)' exists and is not a directory")
            }
            verified.insert(relative)
        }
        for entry in entries {
            if entry.kind == .directory {
                try ensureDirectory(entry.path, for: entry.path)
            } else {
                try ensureDirectory(ManifestPath.parent(of: entry.path), for: entry.path)
                if overwrite, let existing = try FileSystem.statusIfExists(root + "/" + entry.path) {
                    guard existing.kind != .directory else {
                        throw ChunkStoreError.unsafeManifestPath(path: entry.path, reason: "a directory is in the way")
                    }
                    try FileSystem.removeFile(root + "/" + entry.path)
                }
                // Files are created here, one thread, before the parallel writes: concurrent creates in one
                // directory serialize on its lock in the kernel and spin. O_EXCL refuses anything already there.
                if entry.kind == .file {
                    let file = try FileDescriptor.create(root + "/" + entry.path, mode: 0o600, exclusive: true)
                    defer { file.close() }
                    if entry.size > 0 { try file.truncate(to: entry.size) }
                }
            }
        }
    }

    private func restoreFile(_ entry: TreeEntry, root: String) async throws {
        let path = root + "/" + entry.path
        let file = try await pool.run { try FileDescriptor.openForWriting(path) }
        defer { file.close() }
        let slots = repository.chunkSlots
        try await withThrowingTaskGroup(of: Void.self) { group in
            var offset: Int64 = 0
            for ref in entry.chunks ?? [] {
                await slots.acquire()
                let at = offset
                offset += Int64(ref.length)
                group.addTask { [repository, pool, progress] in
                    defer { slots.release() }
                    let plain = try await repository.getChunk(ref)
                    try await pool.run { try plain.withUnsafeBytes { try file.write($0, at: at) } }
                    progress.addBytes(plain.count)
                }
            }
            try await group.waitForAll()
        }
        progress.addFile()
    }

    /// Symlinks, then modes and times (files first, directories deepest first so child writes do not disturb
    /// them). Blocking.
    static func finish(root: String, entries: [TreeEntry]) throws {
        for entry in entries where entry.kind == .symlink {
            try FileSystem.makeSymlink(root + "/" + entry.path, target: entry.target ?? "")
            try FileSystem.setModificationTime(
                root + "/" + entry.path, seconds: entry.mtime, nanoseconds: entry.mtimeNanoseconds)
        }
        for entry in entries where entry.kind == .file {
            try FileSystem.setMode(root + "/" + entry.path, mode: entry.mode)
            try FileSystem.setModificationTime(
                root + "/" + entry.path, seconds: entry.mtime, nanoseconds: entry.mtimeNanoseconds)
        }
        for entry in entries.reversed() where entry.kind == .directory {
            try FileSystem.setMode(root + "/" + entry.path, mode: entry.mode)
            try FileSystem.setModificationTime(
                root + "/" + entry.path, seconds: entry.mtime, nanoseconds: entry.mtimeNanoseconds)
        }
    }
}
