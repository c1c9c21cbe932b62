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
    public var readThrottle: ReadThrottle?
    private let pool: BlockingPool
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
        let logger = self.logger
        let items = try await pool.run { try TreeWalker.walk(root: absoluteSource, logger: logger) }
        let (parentSnapshot, parentEntries, previous) = try await previousRead
        progress.setTotal(items.reduce(0) { $0 + ($1.status.kind == .regular ? $1.status.size : 0) })
        // This run's own counts: other backups (and volume snapshots) may share the repository right now.
        let statistics = StoreStatistics()
        var entries = items.map(Self.entry(for:))
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
        // The files are read in a child task that reports each file's chunks as soon as every one is in a pack, not
        // when the upload of the last pack it filled ends: the manifest is made and the last packs start uploading
        // while that upload is under way (one round trip less at the end of the data). The child still awaits every
        // upload, so a failed one stops the reading and the backup as before, and none outlives it.
        let paths = toRead.map { (index: $0, path: Array((absoluteSource + "/").utf8) + entries[$0].rawPath) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let (added, addedFiles) = AsyncStream.makeStream(of: (Int, [ChunkRef]).self)
            group.addTask {
                defer { addedFiles.finish() }
                try await readFiles(paths, statistics: statistics) { addedFiles.yield(($0, $1)) }
            }
            var remaining = paths.count
            if remaining > 0 {
                for await (index, refs) in added {
                    entries[index].chunks = refs
                    remaining -= 1
                    if remaining == 0 { break }
                }
            }
            // Fewer files than started: the reading failed (this rethrows its error) or was cancelled.
            if remaining > 0 {
                try await group.waitForAll()
                throw CancellationError()
            }
            // The size recorded is what was read, in case the file changed under us.
            for index in fileIndices {
                entries[index].size = Int64(entries[index].chunks!.reduce(0) { $0 + $1.length })
            }
            // Nothing changed at all (every entry as the parent has it): the parent's manifest is this one too, and
            // encoding it again (most of an unchanged backup's time) would only find every chunk stored.
            let manifest: [ChunkRef]
            if let parentSnapshot, entries == parentEntries {
                manifest = parentSnapshot.manifest
                await repository.recordReused(manifest, statistics: statistics)
            } else {
                manifest = try await repository.putBlob(try TreeManifest.encode(entries), statistics: statistics)
            }
            await repository.startUploadingOpenPacks()
            // What this snapshot references, for reference counting; written before the record that commits it.
            var referenced = Set(manifest.map(\.id))
            for entry in entries { referenced.formUnion((entry.chunks ?? []).map(\.id)) }
            // A new identity for this commit: the name may have been used (and deleted) before.
            let commit = CommitID.make()
            // The commit's pending marker goes while the reading's last uploads end; the record is made once the
            // data is stored (its time counts the uploads).
            return try await ReferenceList.commit(
                key: Snapshot.key(name), references: referenced, owner: .snapshot(name, commit: commit),
                repository: repository, whileStoring: { try await group.waitForAll() }
            ) {
                let after = statistics.current
                var snapshot = Snapshot(
                    name: name, source: absoluteSource, hostname: hostname, createdAt: Date(),
                    parent: parentSnapshot?.name, manifest: manifest,
                    summary: Snapshot.Summary(
                        files: fileIndices.count, directories: entries.count { $0.kind == .directory },
                        symlinks: entries.count { $0.kind == .symlink }, unchangedFiles: unchanged,
                        logicalBytes: entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) },
                        newPlainBytes: after.newPlainBytes, newStoredBytes: after.newStoredBytes,
                        newChunks: after.newChunks, reusedChunks: after.reusedChunks,
                        seconds: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000))
                snapshot.commit = commit
                snapshot.backupCommit = backupCommit
                return snapshot
            }
        }
    }

    /// Reads the files at `paths` (`fileConcurrency` at a time); `added` gets each file's index and chunk references
    /// once all of its chunks are in packs. Returns when every file's uploads have ended.
    private func readFiles(
        _ paths: [(index: Int, path: [UInt8])], statistics: StoreStatistics,
        added: @escaping @Sendable (Int, [ChunkRef]) -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for (index, path) in paths {
                if running == fileConcurrency {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await self.backupFile(path, statistics: statistics) { added(index, $0) } }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    /// Reads one file chunk by chunk, storing the chunks in parallel; `added` gets their references in file order
    /// once every chunk is in a pack. Returns once the uploads of the packs its chunks filled have ended.
    private func backupFile(
        _ rawPath: [UInt8], statistics: StoreStatistics, added: @escaping @Sendable ([ChunkRef]) -> Void
    ) async throws {
        let path = Path.display(rawPath)
        let file: FileDescriptor
        do {
            file = try await pool.run { try FileDescriptor.openForReading(bytes: rawPath) }
        } catch let error as SystemError {
            throw ChunkStoreError.sourceUnreadable(path: path, reason: error.description)
        }
        defer { file.close() }
        let reader = FileChunkReader(file: file, chunker: repository.volumeChunker, pool: pool)
        // A chunk is not bigger than the chunker's maximum: that much of the byte budget is taken before reading, and
        // what the chunk does not use is given back at once.
        let largest = repository.volumeChunker.profile.maximum
        // A discarding group frees each child (and the chunk bytes it captured) as soon as it finishes; a plain
        // group would hold every finished child of a large file until the end of the file.
        let results = OrderedResults<ChunkRef>()
        // A failed upload records itself before it gives its slot back, so the read it unblocks sees it and stops
        // (the group's own cancellation comes a moment later); reading never goes on to the end of the file.
        let failure = FirstFailure()
        try await withThrowingDiscardingTaskGroup { group in
            while !group.isCancelled && failure.error == nil {
                try await repository.acquireChunkWork(bytes: largest)
                let chunk: [UInt8]?
                do { chunk = try await reader.next() } catch {
                    repository.releaseChunkWork(bytes: largest)
                    throw ChunkStoreError.sourceUnreadable(path: path, reason: "\(error)")
                }
                guard let chunk else {
                    repository.releaseChunkWork(bytes: largest)
                    break
                }
                do { try await readThrottle?.take(chunk.count) } catch {
                    repository.releaseChunkWork(bytes: largest)
                    throw error
                }
                repository.byteBudget.release(largest - min(chunk.count, largest))
                let held = min(chunk.count, largest)
                let index = results.reserve()
                group.addTask { [repository, progress] in
                    defer { repository.releaseChunkWork(bytes: held) }
                    do {
                        let (ref, upload) = try await repository.addChunk(chunk, statistics: statistics)
                        results.set(index, ref)
                        if let upload { try await repository.awaitUpload(upload) }
                    } catch {
                        failure.record(error)
                        throw error
                    }
                    progress.addBytes(chunk.count)
                }
            }
            if !group.isCancelled && failure.error == nil { results.close(whenComplete: added) }
        }
        progress.addFile()
    }

    /// The parent's entries in manifest order, and by path.
    private func previousEntries(_ snapshot: Snapshot?) async throws -> ([TreeEntry], [String: TreeEntry]) {
        guard let snapshot else { return ([], [:]) }
        let entries = try TreeManifest.decode(
            try await repository.readBlob(snapshot.manifest), key: Snapshot.key(snapshot.name))
        return (entries, Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first }))
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
