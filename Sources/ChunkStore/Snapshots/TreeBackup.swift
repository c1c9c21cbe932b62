import Foundation
import Logging
import SystemIO

/// Backs up a directory tree into the store and commits a `Snapshot`.
///
/// Files are read in parallel (bounded by `fileConcurrency`), each cut into content-defined chunks whose hashing,
/// compression and upload run in parallel too, bounded by the repository's chunk slots so memory stays flat. A file
/// whose size, mtime, ctime and inode match the parent snapshot is not read again: its chunk list is reused.
public struct TreeBackup: Sendable {
    public let repository: Repository
    public var fileConcurrency: Int
    public var progress: TreeProgress
    /// Bounds the bytes read from the source (nil: unbounded), shared with whoever else reads through it.
    public var readThrottle: ByteThrottle?
    let pool: BlockingPool
    private let logger = Logger(label: "velero-cas.tree-backup")

    public init(
        repository: Repository, fileConcurrency: Int = 8, progress: TreeProgress = TreeProgress(),
        pool: BlockingPool = .shared
    ) {
        self.repository = repository
        self.fileConcurrency = max(1, fileConcurrency)
        self.progress = progress
        self.pool = pool
    }

    /// Backs up `source` as snapshot `name`. `parent` names the snapshot to compare against; when nil, the latest
    /// snapshot of the same source on this host is used, if any. `backupCommit` ties a volume snapshot to the backup
    /// it belongs to, so it expires with it.
    public func run(source: String, name: String, parent: String? = nil, backupCommit: String? = nil) async throws
        -> Snapshot
    {
        try ResourceName.validate(name, what: "snapshot name")
        let absoluteSource = Self.absolute(source)
        if readsBeforeTheLock(parent: parent) {
            return try await runIntoNewStore(source: absoluteSource, name: name, backupCommit: backupCommit)
        }
        // The snapshot records are read while the lock is taken: each read is a round trip on an object store, and
        // records need no lock to be read. What depends on the lock is checked under it (`backup`).
        let lookup = Task { try await self.lookUp(name: name, parent: parent, source: absoluteSource) }
        return try await withTaskCancellationHandler {
            defer { lookup.cancel() }
            // Garbage collection cannot run while this lock is held, so no chunk this backup reuses can vanish.
            return try await StoreLock.withLock(.shared, repository: repository, operation: "snapshot \(name)") {
                try await backup(
                    source: absoluteSource, name: name, parent: parent, found: try await lookup.value,
                    backupCommit: backupCommit)
            }
        } onCancel: {
            lookup.cancel()
        }
    }

    /// The parent snapshot (`parent`, or the latest snapshot of `source` on this host, or nil), read while it is
    /// checked that `name` is not taken.
    private func lookUp(name: String, parent: String?, source: String) async throws -> Snapshot? {
        let catalog = SnapshotCatalog(repository: repository)
        async let existing = catalog.snapshot(named: name)
        async let found: Snapshot? = {
            guard let parent else {
                return try await catalog.latest(source: source, hostname: await HostName.current())
            }
            guard let snapshot = try await catalog.snapshot(named: parent) else {
                throw ChunkStoreError.snapshotNotFound(name: parent, store: repository.store.location)
            }
            return snapshot
        }()
        if try await existing != nil {
            throw ChunkStoreError.snapshotExists(name: name, store: repository.store.location)
        }
        return try await found
    }

    /// The parent's entries by path, read under the lock. The parent was looked up before the lock was held: its
    /// record is read again while its manifest is (no extra round trip), and if it changed meanwhile (forgotten,
    /// collected, replaced) the lookup is done again under the lock.
    private func previousEntries(_ found: Snapshot?, name: String, parent: String?, source: String) async throws -> (
        Snapshot?, [TreeEntry], [String: TreeEntry]
    ) {
        guard let snapshot = found else { return (nil, [], [:]) }
        let catalog = SnapshotCatalog(repository: repository)
        async let current = catalog.snapshot(named: snapshot.name)
        let entries: ([TreeEntry], [String: TreeEntry])?
        do { entries = try await previousEntries(snapshot) } catch { entries = nil }
        if let entries, try await current == snapshot { return (snapshot, entries.0, entries.1) }
        let again = try await lookUp(name: name, parent: parent, source: source)
        let (list, byPath) = try await previousEntries(again)
        return (again, list, byPath)
    }

    private func backup(
        source absoluteSource: String, name: String, parent: String?, found: Snapshot?, backupCommit: String?
    ) async throws -> Snapshot {
        let started = ContinuousClock.now
        let hostname = await HostName.current()
        // The parent's manifest is read and decoded while the tree is walked (CPU on one side, file-system calls on
        // the other): for a backup with nothing changed these two are most of its time.
        async let previousRead = previousEntries(found, name: name, parent: parent, source: absoluteSource)
        var entries = try await walk(absoluteSource)
        let (parentSnapshot, parentEntries, previous) = try await previousRead
        // This run's own counts: other backups (and volume snapshots) may share the repository right now.
        let statistics = StoreStatistics()
        let fileIndices = entries.indices.filter { entries[$0].kind == .file }
        var unchanged = 0
        var toRead: [Int] = []
        for index in fileIndices {
            if let old = previous[entries[index].path], entries[index].isUnchanged(comparedTo: old) {
                entries[index].chunks = old.chunks
                unchanged += 1
                await repository.recordReused(old.chunks ?? [], statistics: statistics)
                progress.addBytes(Int(entries[index].size))
                progress.addFile()
            } else {
                toRead.append(index)
            }
        }
        let plan = Plan(
            name: name, source: absoluteSource, hostname: hostname, started: started, statistics: statistics,
            entries: entries, fileIndices: fileIndices, unchanged: unchanged, parent: parentSnapshot,
            parentEntries: parentEntries, backupCommit: backupCommit)
        let reading = startReading(toRead, of: plan, gate: nil)
        return try await withTaskCancellationHandler {
            try await finish(plan, reading: reading)
        } onCancel: {
            reading.task.cancel()
        }
    }

    /// The parent's entries in manifest order, and by path.
    private func previousEntries(_ snapshot: Snapshot?) async throws -> ([TreeEntry], [String: TreeEntry]) {
        guard let snapshot else { return ([], [:]) }
        let entries = try TreeManifest.decode(
            try await repository.readBlob(snapshot.manifest), key: Snapshot.key(snapshot.name))
        return (entries, Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The tree's entries (walked on the blocking pool); the progress's total is set from it.
    func walk(_ source: String) async throws -> [TreeEntry] {
        let logger = self.logger
        let items = try await pool.run { try TreeWalker.walk(root: source, logger: logger) }
        progress.setTotal(items.reduce(0) { $0 + ($1.status.kind == .regular ? $1.status.size : 0) })
        return items.map(Self.entry(for:))
    }

    private static func entry(for item: TreeWalker.Item) -> TreeEntry {
        let status = item.status
        let kind: TreeEntry.Kind =
            switch status.kind {
            case .directory: .directory
            case .symlink: .symlink
            default: .file
            }
        var entry = TreeEntry(
            path: "", kind: kind, mode: status.mode, size: kind == .file ? status.size : 0,
            mtime: status.modificationSeconds, mtimeNanoseconds: status.modificationNanoseconds,
            ctime: status.changeSeconds, ctimeNanoseconds: status.changeNanoseconds, inode: status.inode,
            target: nil, chunks: nil, uid: status.owner, gid: status.group,
            xattrs: item.attributes.isEmpty
                ? nil : item.attributes.map { TreeEntry.Attribute(name: $0.name, value: $0.value) })
        // Names are bytes: these keep a name that is not UTF-8 exactly (see `TreeEntry`).
        entry.rawPath = item.path
        entry.rawTarget = item.target
        return entry
    }

    static func absolute(_ path: String) -> String {
        var result = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
