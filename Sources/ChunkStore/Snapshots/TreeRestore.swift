import Foundation
import Logging
import Synchronization
import SystemIO

/// Restores a snapshot's tree into a directory, byte for byte, with names (as bytes), modes, owners, extended
/// attributes, mtimes, symlinks and empty directories.
///
/// Every manifest path is checked before anything is written, and no restore ever follows a symlink, not even one
/// that someone puts into the target while the restore runs: the target is opened once as a directory, and every
/// directory below it is made with `mkdirat` and opened from its open parent with `O_NOFOLLOW`; files are created
/// with `O_EXCL|O_NOFOLLOW`, and later opened the same way and checked to be the very inode created; owners, modes,
/// attributes and times are set on open descriptors (`fchown`, `fchmod`, `fsetxattr`, `futimens`), never through a
/// path. A symlink found where a directory should be fails the restore with `unsafeManifestPath` naming it.
/// Files are restored in parallel, their chunks fetched, verified and written at their offsets in parallel.
///
/// Owners are restored when `restoreOwners` is set (by default when running as root). setuid and setgid bits are
/// restored only together with their owner: without it (not asked, an old manifest without owners, or a failed
/// `fchown`) they are cleared, so a restore never makes a set-id program owned by someone else. For the same
/// reason, extended attributes outside the `user.` and `system.posix_acl_` namespaces (`security.capability`,
/// `trusted.*`, …) are restored only together with owners. Order per path: owner, attributes, mode, times, because
/// `chown` clears set-id bits and file capabilities.
public struct TreeRestore: Sendable {
    public let repository: Repository
    public var fileConcurrency: Int
    public var progress: TreeProgress
    /// Whether owners (and with them setuid/setgid bits and privileged extended attributes) are restored.
    public var restoreOwners: Bool
    /// Whether each file's pages start going to disk once it is written (see `init`).
    public var durable: Bool
    private let pool: BlockingPool
    private let logger = Logger(label: "velero-cas.tree-restore")
    /// Runs after the directories and empty files exist and before any data is written; tests use it to change
    /// the target under a running restore.
    var afterPrepare: (@Sendable () async throws -> Void)?
    /// Bounds the bytes per second written (shared with other restores that hold the same throttle); nil: unbounded.
    public var writeThrottle: ByteThrottle?
    /// Runs on the thread that makes the tree, after each file is created (and before the next); tests use it to
    /// see what is written meanwhile.
    var afterCreating: (@Sendable (TreeEntry) throws -> Void)?

    public struct Summary: Sendable, Codable, Equatable {
        public var files: Int
        public var directories: Int
        public var symlinks: Int
        public var bytes: Int64
        public var seconds: Double
    }

    /// `fileConcurrency` defaults to the store's request limit: a small file is one read of the store, so on an
    /// object store 50 ms away the files under way are the requests in flight (memory stays bounded by the store's
    /// byte budget whatever the count).
    /// With `durable`, the tree is on disk when `run` returns: each run of a file's pages starts going to disk as
    /// soon as it is written (`FileDescriptor.startWriteback`), each file is fsynced when complete, each directory
    /// after its entries. For a caller that releases the data to others (the node agent's done file), and costs
    /// only the tree's own writes, where a `syncfs` would also wait for every other writer on the file system.
    public init(
        repository: Repository, fileConcurrency: Int? = nil, progress: TreeProgress = TreeProgress(),
        restoreOwners: Bool = ProcessIdentity.isRoot, durable: Bool = false, pool: BlockingPool = .shared
    ) {
        self.durable = durable
        self.repository = repository
        self.fileConcurrency = max(1, fileConcurrency ?? repository.limits.requestsInFlight)
        self.progress = progress
        self.restoreOwners = restoreOwners
        self.pool = pool
    }

    /// Restores snapshot `name` into `target`, which must be empty or absent unless `overwrite` is set.
    ///
    /// On an object store every request is a round trip, so the snapshot's record, the index and the manifest are
    /// read ahead while the lock is taken, and the record is read again under the lock beside the index's refresh.
    /// Nothing read ahead is trusted as it stands: the manifest read ahead is used only when the record under the
    /// lock is the one it came from (a snapshot forgotten, or a name reused, meanwhile is read again under the
    /// lock), and its chunks were verified against their ids, so they are the manifest's bytes whenever they were
    /// read (`PrefetchedIndex`). The files' data is read only under the lock, planned from the refreshed index.
    public func run(snapshot name: String, into target: String, overwrite: Bool = false) async throws -> Summary {
        let repository = self.repository
        // With a lock taken while the store was opened (`Repository.open`'s `lockingAhead`), the lock is won and the
        // index refreshed about when the read-ahead has its index: the manifest read ahead is used if it is there
        // by then, else it is read under the lock at once rather than waited for.
        let lockedAhead = repository.lockAhead != nil
        let readAhead = ReadAheadResult()
        let ahead = Task {
            let early = try await Self.readAhead(snapshot: name, repository: repository)
            readAhead.value.withLock { $0 = early }
            return early
        }
        defer { ahead.cancel() }
        // Garbage collection waits while a restore reads, so the snapshot cannot be collected under it.
        return try await StoreLock.withLock(
            .shared, repository: repository, operation: "restore \(name)",
            alongsideRefresh: { try await SnapshotCatalog(repository: repository).snapshot(named: name) }
        ) { current in
            let started = ContinuousClock.now
            guard let current else {
                throw ChunkStoreError.snapshotNotFound(name: name, store: repository.store.location)
            }
            let entries: [TreeEntry]
            let early = lockedAhead ? readAhead.value.withLock { $0 } : try? await ahead.value
            if let early, early.snapshot == current {
                entries = early.entries
            } else {
                ahead.cancel()
                entries = try TreeManifest.decode(
                    try await repository.readBlob(current.manifest), key: Snapshot.key(name))
            }
            return try await restore(entries: entries, into: target, overwrite: overwrite, started: started)
        }
    }

    /// The snapshot's record and its manifest, read without a lock (see `run`); nil when there is no record.
    static func readAhead(snapshot name: String, repository: Repository) async throws -> (
        snapshot: Snapshot, entries: [TreeEntry]
    )? {
        async let record = SnapshotCatalog(repository: repository).snapshot(named: name)
        async let index = repository.prefetchIndex()
        guard let snapshot = try await record else { return nil }
        let bytes = try await repository.readBlob(snapshot.manifest, readingAhead: try await index)
        return (snapshot, try TreeManifest.decode(bytes, key: Snapshot.key(name)))
    }

    /// Restores already-loaded manifest entries (the volume path of a backup uses this too).
    public func restore(entries: [TreeEntry], into target: String, overwrite: Bool, started: ContinuousClock.Instant)
        async throws -> Summary
    {
        try Self.validate(entries)
        let root = TreeBackup.absolute(target)
        progress.setTotal(entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) })
        let directory = try await pool.run { try Self.openTarget(root, overwrite: overwrite) }
        defer { directory.close() }
        let files = entries.indices.filter { entries[$0].kind == .file }
        // The tree is made on one pool thread (directories, then each file as it comes) while the files already
        // made are written: each file's writer waits for its creation only, so the creating (one core, and dear
        // after many deletions on ext4) runs beside the decoding and writing instead of before all of it.
        let creations = Creations(files: files)
        let afterCreating = self.afterCreating
        async let tree: Void = pool.run {
            do {
                try Self.prepare(directory, entries: entries, overwrite: overwrite) { index, identity in
                    creations.created(index, identity)
                    try afterCreating?(entries[index])
                    if creations.isStopped { throw CancellationError() }
                }
            } catch {
                if !creations.isStopped { creations.fail(error) }
                throw error
            }
        }
        if let afterPrepare {
            try await tree
            try await afterPrepare()
        }

        // Directory walkers kept from file to file: each file is opened from its parent's descriptor, and the next
        // file (usually in the same directory) reuses the walk instead of opening every component again.
        let walkers = DirectoryWalkers(root: directory)
        defer { walkers.close() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for index in files {
                    if running == fileConcurrency {
                        try await group.next()
                        running -= 1
                    }
                    let entry = entries[index]
                    group.addTask {
                        let identity = try await creations.wait(for: index)
                        try await self.restoreFile(entry, walkers: walkers, created: identity)
                    }
                    running += 1
                }
                try await group.waitForAll()
            }
            try await tree
        } catch {
            // The tree's own failure (a path in the way) is the cause; the writers waiting for it only echo it.
            // After a writer's failure (or a cancellation) no more of the tree is made.
            creations.stop()
            _ = try? await tree
            if let failure = creations.failure { throw failure }
            throw error
        }
        let owners = restoreOwners
        let logger = self.logger
        let durable = self.durable
        try await pool.run {
            try Self.finish(directory, entries: entries, owners: owners, logger: logger, syncs: durable)
        }
        return Summary(
            files: files.count, directories: entries.count { $0.kind == .directory },
            symlinks: entries.count { $0.kind == .symlink }, bytes: files.reduce(0) { $0 + entries[$1].size },
            seconds: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000)
    }

    /// Checks every entry before anything is written.
    static func validate(_ entries: [TreeEntry]) throws {
        for entry in entries {
            let path = entry.rawPath
            try ManifestPath.validate(path)
            func refuse(_ reason: String) -> ChunkStoreError {
                .unsafeManifestPath(path: Path.display(path), reason: reason)
            }
            switch entry.kind {
            case .file:
                let total = (entry.chunks ?? []).reduce(Int64(0)) { $0 + Int64($1.length) }
                guard total == entry.size else {
                    throw refuse("chunks hold \(total) bytes but the size is \(entry.size)")
                }
            case .symlink:
                guard let target = entry.rawTarget, !target.isEmpty, !target.contains(0) else {
                    throw refuse("symlink without a valid target")
                }
            case .directory: break
            }
            for attribute in entry.xattrs ?? [] where attribute.rawName.isEmpty || attribute.rawName.contains(0) {
                throw refuse("invalid extended attribute name '\(attribute.name)'")
            }
        }
        // A path listed twice, or one beneath a file or symlink entry (e.g. "link" -> /elsewhere plus "link/evil"),
        // cannot be restored faithfully: it would fail halfway with a bare "File exists". Refuse it up front.
        var seen: Set<[UInt8]> = []
        let nonDirectories = Set(entries.lazy.filter { $0.kind != .directory }.map(\.rawPath))
        for entry in entries {
            let path = entry.rawPath
            guard seen.insert(path).inserted else {
                throw ChunkStoreError.unsafeManifestPath(path: Path.display(path), reason: "listed more than once")
            }
            var ancestor = ManifestPath.parent(of: path)
            while !ancestor.isEmpty {
                if nonDirectories.contains(ancestor) {
                    throw ChunkStoreError.unsafeManifestPath(
                        path: Path.display(path),
                        reason: "'\(Path.display(ancestor))' is not a directory in the manifest")
                }
                ancestor = ManifestPath.parent(of: ancestor)
            }
        }
    }

    /// Checks the target (a directory, empty unless `overwrite`), creating it if missing, and opens it: everything
    /// below is reached from this descriptor. Blocking.
    static func openTarget(_ root: String, overwrite: Bool) throws -> FileDescriptor {
        if let status = try FileSystem.statusIfExists(root) {
            guard status.kind == .directory else {
                throw ChunkStoreError.invalidName(root, reason: "restore target exists and is not a directory")
            }
        } else {
            try FileSystem.makeDirectories(root)
        }
        let directory = try FileDescriptor.openDirectoryNoFollow(root)
        do {
            if try !overwrite && !directory.names().isEmpty { throw ChunkStoreError.targetNotEmpty(path: root) }
        } catch {
            directory.close()
            throw error
        }
        return directory
    }

    /// Which inode a restore created for a file, so later opens can tell it was not swapped.
    struct CreatedFile: Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// Creates every directory and every file (empty, at its size), in the entries' order, refusing to pass
    /// through anything that is not a real directory; reports the identity of each file as it is created, by entry
    /// index. Blocking.
    static func prepare(
        _ root: FileDescriptor, entries: [TreeEntry], overwrite: Bool, created: (Int, CreatedFile) throws -> Void
    ) throws {
        let directories = OpenDirectories(root: root, create: true)
        defer { directories.close() }
        for (index, entry) in entries.enumerated() {
            let components = ManifestPath.components(entry.rawPath)
            if entry.kind == .directory {
                _ = try directories.directory(components[...], for: entry)
                continue
            }
            let parent = try directories.directory(components.dropLast(), for: entry)
            let name = components[components.count - 1]
            if overwrite, let existing = try parent.status(at: name) {
                guard existing.kind != .directory else {
                    throw ChunkStoreError.unsafeManifestPath(path: entry.path, reason: "a directory is in the way")
                }
                try parent.removeFile(at: name)
            }
            // Files are created here, one thread, before the parallel writes: concurrent creates in one
            // directory serialize on its lock in the kernel and spin. O_EXCL refuses anything already there.
            if entry.kind == .file {
                let file = try parent.createFile(at: name, mode: 0o600)
                defer { file.close() }
                if entry.size > 0 { try file.truncate(to: entry.size) }
                let status = try file.status()
                try created(index, CreatedFile(device: status.device, inode: status.inode))
            }
        }
    }

    /// The files `prepare` has created so far, for the writers that wait for them: each waits for its own file
    /// only; all wait in vain (with the tree's error) once the tree failed.
    final class Creations: Sendable {
        private let gates: [Int: Gate]
        private let identities = Mutex<[Int: CreatedFile]>([:])
        private let failed = Mutex<(any Error)?>(nil)
        private let stopped = Atomic(false)

        init(files: [Int]) { gates = Dictionary(uniqueKeysWithValues: files.map { ($0, Gate()) }) }

        /// The error the tree failed with, if it did.
        var failure: (any Error)? { failed.withLock { $0 } }

        /// Whether the restore gave up (a writer failed, or it was cancelled): the tree stops at its next file.
        var isStopped: Bool { stopped.load(ordering: .acquiring) }

        func stop() { stopped.store(true, ordering: .releasing) }

        func created(_ index: Int, _ identity: CreatedFile) {
            identities.withLock { $0[index] = identity }
            gates[index]?.open()
        }

        func fail(_ error: any Error) {
            failed.withLock { $0 = error }
            for gate in gates.values { gate.fail(error) }
        }

        /// Returns once file `index` is created, with its identity; throws if the tree failed first or the task is
        /// cancelled.
        func wait(for index: Int) async throws -> CreatedFile {
            guard let gate = gates[index] else { preconditionFailure("entry \(index) is not a file of this tree") }
            try await gate.wait()
            guard let identity = identities.withLock({ $0[index] }) else {
                preconditionFailure("a file's gate opened before its identity was kept")
            }
            return identity
        }
    }

    /// Buffers that runs are decoded into before they are written: reused, as a fresh one of a megabyte or more
    /// costs an mmap and a page fault per page. They hold at most what the store's chunk budget lets be in flight.
    static let runBuffers = SpareBuffers(limitBytes: 64 << 20)

    private func restoreFile(_ entry: TreeEntry, walkers: DirectoryWalkers, created: CreatedFile?) async throws {
        let file = try await pool.run {
            try walkers.with { try Self.openCreatedFile(entry, directories: $0, created: created) }
        }
        defer { file.close() }
        // A failed fetch records itself before it gives its slot back, and the discarding group cancels itself: no
        // further fetch starts after that.
        let failure = FirstFailure()
        // The file's chunks are read in runs (adjacent blobs of a pack, one request each, `Repository.readRuns`),
        // in parallel within the store's limits, each chunk written at its offset.
        let chunks = entry.chunks ?? []
        var offsets: [Int64] = []
        offsets.reserveCapacity(chunks.count)
        var offset: Int64 = 0
        for chunk in chunks {
            offsets.append(offset)
            offset += Int64(chunk.length)
        }
        let runs = try await repository.readRuns(chunks)
        let durable = self.durable
        try await withThrowingDiscardingTaskGroup { group in
            for run in runs {
                guard !group.isCancelled && failure.error == nil else { break }
                let bytes = run.plainBytes
                try await writeThrottle?.take(bytes)
                try await repository.acquireChunkWork(bytes: bytes)
                group.addTask { [repository, pool, progress, offsets, durable] in
                    defer { repository.releaseChunkWork(bytes: bytes) }
                    do {
                        let fetched = try await repository.fetch(run)
                        // A run is contiguous in the file: it is decoded into one reused buffer and written with
                        // one call (decoding is CPU work, done here beside the write rather than on the
                        // cooperative pool).
                        try await pool.run {
                            let buffer = Self.runBuffers.take(atLeast: bytes)
                            defer { Self.runBuffers.give(buffer) }
                            let plain = UnsafeMutableRawBufferPointer(rebasing: buffer[..<bytes])
                            try repository.decode(fetched, into: plain)
                            let start = offsets[run.firstIndex]
                            try file.write(UnsafeRawBufferPointer(plain), at: start)
                            // Its pages go to disk while the rest is decoded.
                            if durable { file.startWriteback(start..<start + Int64(bytes)) }
                        }
                        progress.addBytes(bytes)
                    } catch {
                        failure.record(error)
                        throw error
                    }
                }
            }
        }
        let owners = restoreOwners
        let logger = self.logger
        try await pool.run {
            try Self.setAttributes(of: entry, on: file, owners: owners, logger: logger)
            if durable { try file.sync() }
        }
        progress.addFile()
    }

    /// Opens a file `prepare` created, walking down from the target's descriptor without following any symlink,
    /// and checks that it is still the inode created. Blocking.
    static func openCreatedFile(_ entry: TreeEntry, directories: OpenDirectories, created: CreatedFile?) throws
        -> FileDescriptor
    {
        let components = ManifestPath.components(entry.rawPath)
        let parent = try directories.directory(components.dropLast(), for: entry)
        let name = components[components.count - 1]
        let file: FileDescriptor
        do {
            file = try parent.openForWriting(at: name)
        } catch {
            throw OpenDirectories.explain(error, in: parent, name: name, relative: entry.rawPath, for: entry)
        }
        do {
            let status = try file.status()
            guard status.kind == .regular, status.device == created?.device, status.inode == created?.inode else {
                throw ChunkStoreError.unsafeManifestPath(
                    path: entry.path, reason: "the file was replaced in the target while it was being restored")
            }
        } catch {
            file.close()
            throw error
        }
        return file
    }

    /// Owner, extended attributes, mode and times of a file or directory, on its open descriptor, in that order.
    /// Blocking.
    static func setAttributes(of entry: TreeEntry, on file: FileDescriptor, owners: Bool, logger: Logger) throws {
        var mode = entry.mode & 0o7777
        var ownerRestored = false
        if owners, let uid = entry.uid, let gid = entry.gid {
            do {
                try file.setOwner(owner: uid, group: gid)
                ownerRestored = true
            } catch {
                logger.warning("\(error); restoring it without setuid/setgid bits")
            }
        }
        if !ownerRestored { mode &= ~0o6000 }
        for attribute in entry.xattrs ?? [] where owners || isUnprivileged(attribute.rawName) {
            try file.setExtendedAttribute(ExtendedAttribute(name: attribute.rawName, value: attribute.value.bytes))
        }
        try file.setMode(mode)
        try file.setModificationTime(seconds: entry.mtime, nanoseconds: entry.mtimeNanoseconds)
    }

    /// Extended attributes any owner may set on their own file: `user.*` and POSIX ACLs (permissions, like the mode).
    static func isUnprivileged(_ name: [UInt8]) -> Bool {
        name.starts(with: Array("user.".utf8)) || name.starts(with: Array("system.posix_acl_".utf8))
    }

    /// Symlinks (with their owners, attributes and times), then directories' owners, attributes, modes and times,
    /// deepest first so child writes do not disturb them. Files got theirs when written. With `syncs`, each directory
    /// and the root are fsynced once their entries are all there. Blocking.
    static func finish(_ root: FileDescriptor, entries: [TreeEntry], owners: Bool, logger: Logger, syncs: Bool = false)
        throws
    {
        let directories = OpenDirectories(root: root, create: false)
        defer { directories.close() }
        for entry in entries where entry.kind == .symlink {
            let components = ManifestPath.components(entry.rawPath)
            let parent = try directories.directory(components.dropLast(), for: entry)
            let name = components[components.count - 1]
            try parent.makeSymlink(at: name, target: entry.rawTarget ?? [])
            if owners, let uid = entry.uid, let gid = entry.gid {
                do { try parent.setOwner(at: name, owner: uid, group: gid) } catch { logger.warning("\(error)") }
                // Only privileged namespaces can exist on a symlink (Linux refuses user.* there).
                for attribute in entry.xattrs ?? [] {
                    try parent.setExtendedAttribute(
                        at: name, ExtendedAttribute(name: attribute.rawName, value: attribute.value.bytes))
                }
            }
            try parent.setModificationTime(at: name, seconds: entry.mtime, nanoseconds: entry.mtimeNanoseconds)
        }
        for entry in entries.reversed() where entry.kind == .directory {
            let directory = try directories.directory(ManifestPath.components(entry.rawPath)[...], for: entry)
            try setAttributes(of: entry, on: directory, owners: owners, logger: logger)
            if syncs { try directory.sync() }
        }
        if syncs { try root.sync() }
    }
}

/// `OpenDirectories` walkers shared by the files of one restore, each used by one thread at a time: a file takes one
/// (the one used last, most likely already in its directory), walks from where it stands, and gives it back open.
/// Descriptors held: at most the files restored at once × the tree's depth, all closed by `close()`.
final class DirectoryWalkers: Sendable {
    private struct Idle: @unchecked Sendable {
        var walkers: [OpenDirectories] = []
    }
    private let idle = Mutex(Idle())
    private let root: FileDescriptor

    init(root: FileDescriptor) { self.root = root }

    /// Runs `body` with a walker of its own. Blocking (it opens directories).
    func with<T>(_ body: (OpenDirectories) throws -> T) throws -> T {
        let taken = idle.withLock { idle in Idle(walkers: idle.walkers.popLast().map { [$0] } ?? []) }
        let walker = taken.walkers.first ?? OpenDirectories(root: root, create: false)
        defer {
            let given = Idle(walkers: [walker])
            idle.withLock { $0.walkers += given.walkers }
        }
        return try body(walker)
    }

    /// Closes every walker's descriptors (none may be in use).
    func close() {
        let all = idle.withLock { idle in
            defer { idle.walkers = [] }
            return idle
        }
        for walker in all.walkers { walker.close() }
    }
}

/// The open directories from a restore target down to the directory last asked for. Consecutive entries of a
/// depth-first manifest share most of their parents, so each step opens only what differs; descriptors held are
/// bounded by the depth. Every directory is opened from its open parent with `O_NOFOLLOW`, so no path string is
/// ever resolved through a component someone could swap for a symlink. One thread at a time.
final class OpenDirectories {
    private let root: FileDescriptor
    private let create: Bool
    private var open: [(name: [UInt8], directory: FileDescriptor)] = []

    /// With `create`, missing directories are made (mode 0700 until `finish` sets theirs).
    init(root: FileDescriptor, create: Bool) {
        self.root = root
        self.create = create
    }

    /// The open directory at the relative path `components` (all of it); `entry` is named in errors.
    func directory(_ components: ArraySlice<[UInt8]>, for entry: TreeEntry) throws -> FileDescriptor {
        var common = 0
        while common < open.count && common < components.count
            && open[common].name == components[components.startIndex + common]
        {
            common += 1
        }
        while open.count > common { open.removeLast().directory.close() }
        for name in components.dropFirst(common) {
            let parent = open.last?.directory ?? root
            do {
                if create { try parent.makeDirectory(at: name, mode: 0o700) }
                open.append((name, try parent.openDirectory(at: name)))
            } catch {
                let relative = open.map(\.name) + [name]
                throw Self.explain(
                    error, in: parent, name: name, relative: Array(relative.joined(separator: [UInt8(ascii: "/")])),
                    for: entry)
            }
        }
        return open.last?.directory ?? root
    }

    func close() {
        for item in open.reversed() { item.directory.close() }
        open = []
    }

    /// Turns a failed open of `name` into a clear refusal when a symlink or another non-directory is there.
    static func explain(
        _ error: any Error, in parent: FileDescriptor, name: [UInt8], relative: [UInt8], for entry: TreeEntry
    )
        -> any Error
    {
        guard let error = error as? SystemError, error.isSymlinkOrNotDirectory else { return error }
        switch (try? parent.status(at: name))??.kind {
        case .symlink?:
            return ChunkStoreError.unsafeManifestPath(
                path: entry.path, reason: "'\(Path.display(relative))' is a symlink in the target")
        case .some(let kind) where kind != .directory:
            return ChunkStoreError.unsafeManifestPath(
                path: entry.path, reason: "'\(Path.display(relative))' exists and is not a directory")
        default:
            return error
        }
    }
}

/// What a restore's read-ahead found, once it has (`TreeRestore.run`).
private final class ReadAheadResult: Sendable {
    let value = Mutex<(snapshot: Snapshot, entries: [TreeEntry])?>(nil)
}
