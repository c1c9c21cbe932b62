import Foundation
import Synchronization
import SystemIO

extension TreeBackup {
    /// What a backup has decided before its files are read: the walked tree (entries of unchanged files already
    /// carry their parent's chunks), the parent, and the run's own counts.
    struct Plan: Sendable {
        var name: String
        var source: String
        var hostname: String
        var started: ContinuousClock.Instant
        /// This run's own counts: other backups (and volume snapshots) may share the repository right now.
        var statistics: StoreStatistics
        var entries: [TreeEntry]
        var fileIndices: [Int]
        var unchanged: Int
        var parent: Snapshot?
        var parentEntries: [TreeEntry]
        var backupCommit: String?
    }

    /// Files being read in a task of their own, and their chunk lists, each as soon as all of its chunks are in
    /// packs (before the upload of the last pack it filled ends).
    struct FileReading: Sendable {
        let task: Task<Void, any Error>
        let added: AsyncStream<(index: Int, refs: [ChunkRef])>
        let count: Int

        /// Cancels the reading and waits until it, and every upload it started, has ended.
        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    /// Starts reading the files at `indices` of the plan's entries. With a `gate`, chunks are read, hashed and
    /// sealed at once but wait at the gate before they are added to packs.
    func startReading(_ indices: [Int], of plan: Plan, gate: Gate?) -> FileReading {
        let paths = indices.map { (index: $0, path: Array((plan.source + "/").utf8) + plan.entries[$0].rawPath) }
        let (added, continuation) = AsyncStream.makeStream(of: (index: Int, refs: [ChunkRef]).self)
        let task = Task {
            defer { continuation.finish() }
            try await readFiles(paths, statistics: plan.statistics, gate: gate) { continuation.yield(($0, $1)) }
        }
        return FileReading(task: task, added: added, count: paths.count)
    }

    /// Takes each file's chunks as the reading reports them, stores the manifest while the reading's last uploads
    /// end (one round trip less at the end of the data), and commits the snapshot. The reading still awaits every
    /// upload, so a failed one stops the reading and the backup, and it has ended, however this ends, before this
    /// returns: no upload outlives the lock the caller holds.
    func finish(_ plan: Plan, reading: FileReading) async throws -> Snapshot {
        do {
            var entries = plan.entries
            var remaining = reading.count
            if remaining > 0 {
                for await (index, refs) in reading.added {
                    entries[index].chunks = refs
                    remaining -= 1
                    if remaining == 0 { break }
                }
            }
            // Fewer files than started: the reading failed (this rethrows its error) or was cancelled.
            if remaining > 0 {
                try await reading.task.value
                throw CancellationError()
            }
            return try await commit(plan, entries: entries, whileStoring: { try await reading.task.value })
        } catch {
            await reading.stop()
            throw error
        }
    }

    /// Stores the manifest of `entries` and commits the snapshot; `whileStoring` waits for the files' last uploads,
    /// while the manifest's and the last packs' uploads and the pending marker's write are under way.
    private func commit(_ plan: Plan, entries: [TreeEntry], whileStoring: () async throws -> Void) async throws
        -> Snapshot
    {
        var entries = entries
        // The size recorded is what was read, in case the file changed under us.
        for index in plan.fileIndices {
            entries[index].size = Int64(entries[index].chunks!.reduce(0) { $0 + $1.length })
        }
        // Nothing changed at all (every entry as the parent has it): the parent's manifest is this one too, and
        // encoding it again (most of an unchanged backup's time) would only find every chunk stored.
        let manifest: [ChunkRef]
        if let parent = plan.parent, entries == plan.parentEntries {
            manifest = parent.manifest
            await repository.recordReused(manifest, statistics: plan.statistics)
        } else {
            manifest = try await repository.putBlob(try TreeManifest.encode(entries), statistics: plan.statistics)
        }
        await repository.startUploadingOpenPacks()
        // What this snapshot references, for reference counting; written before the record that commits it.
        var referenced = Set(manifest.map(\.id))
        for entry in entries { referenced.formUnion((entry.chunks ?? []).map(\.id)) }
        // A new identity for this commit: the name may have been used (and deleted) before.
        let commit = CommitID.make()
        // The record is made once the data is stored (its time counts the uploads).
        return try await ReferenceList.commit(
            key: Snapshot.key(plan.name), references: referenced, owner: .snapshot(plan.name, commit: commit),
            repository: repository, whileStoring: whileStoring
        ) {
            let after = plan.statistics.current
            var snapshot = Snapshot(
                name: plan.name, source: plan.source, hostname: plan.hostname, createdAt: Date(),
                parent: plan.parent?.name, manifest: manifest,
                summary: Snapshot.Summary(
                    files: plan.fileIndices.count, directories: entries.count { $0.kind == .directory },
                    symlinks: entries.count { $0.kind == .symlink }, unchangedFiles: plan.unchanged,
                    logicalBytes: entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) },
                    newPlainBytes: after.newPlainBytes, newStoredBytes: after.newStoredBytes,
                    newChunks: after.newChunks, reusedChunks: after.reusedChunks,
                    seconds: Double((ContinuousClock.now - plan.started) / .milliseconds(1)) / 1000))
            snapshot.commit = commit
            snapshot.backupCommit = plan.backupCommit
            return snapshot
        }
    }

    /// Reads the files at `paths` (`fileConcurrency` at a time); `added` gets each file's index and chunk references
    /// once all of its chunks are in packs. Returns when every file's uploads have ended.
    ///
    /// `fileConcurrency` bounds the files being *read* (each an open file and a reader's buffer), not the files
    /// whose chunks are still being stored: a file that has been read gives its place to the next one while its
    /// chunks wait for a pack's upload (or, into a new store, for the lock). What waits is bounded by the store's
    /// chunk byte budget, which each chunk holds until it is stored. Holding the place until the uploads ended let
    /// eight files waiting for uploads (or the lock) stop all reading.
    private func readFiles(
        _ paths: [(index: Int, path: [UInt8])], statistics: StoreStatistics, gate: Gate?,
        added: @escaping @Sendable (Int, [ChunkRef]) -> Void
    ) async throws {
        let reading = AsyncSemaphore(permits: fileConcurrency)
        var started = 0
        try await withThrowingDiscardingTaskGroup { group in
            for (index, path) in paths {
                // A file that failed cancels the group, which then rethrows its error: start no more, and do not
                // throw a cancellation of this loop's own in its place.
                do { try await reading.acquire() } catch { break }
                guard !group.isCancelled else {
                    reading.release()
                    break
                }
                started += 1
                let place = ReadingPlace(reading)
                group.addTask {
                    defer { place.give() }
                    try await self.backupFile(path, statistics: statistics, gate: gate, readingEnded: { place.give() })
                    {
                        added(index, $0)
                    }
                }
            }
        }
        // No file failed, but the caller was cancelled before every file was started.
        if started < paths.count { throw CancellationError() }
    }

    /// Reads one file chunk by chunk, storing the chunks in parallel; `added` gets their references in file order
    /// once every chunk is in a pack. Returns once the uploads of the packs its chunks filled have ended.
    private func backupFile(
        _ rawPath: [UInt8], statistics: StoreStatistics, gate: Gate?, readingEnded: @escaping @Sendable () -> Void,
        added: @escaping @Sendable ([ChunkRef]) -> Void
    ) async throws {
        let path = Path.display(rawPath)
        let file: FileDescriptor
        do {
            file = try await pool.run { try FileDescriptor.openForReading(bytes: rawPath) }
        } catch let error as SystemError {
            throw ChunkStoreError.sourceUnreadable(path: path, reason: error.description)
        }
        var reader: FileChunkReader? = FileChunkReader(file: file, chunker: repository.volumeChunker, pool: pool)
        // The file is closed, and the reader's buffer let go, once the last chunk is read (or the reading fails);
        // the chunks may still be on their way into packs.
        func endReading() {
            guard reader != nil else { return }
            reader = nil
            file.close()
            readingEnded()
        }
        defer { endReading() }
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
            defer { endReading() }
            while !group.isCancelled && failure.error == nil, let reader {
                try await repository.acquireChunkWork(bytes: largest)
                let chunk: ChunkBytes?
                do { chunk = try await reader.next() } catch {
                    repository.releaseChunkWork(bytes: largest)
                    throw ChunkStoreError.sourceUnreadable(path: path, reason: "\(error)")
                }
                guard let chunk else {
                    repository.releaseChunkWork(bytes: largest)
                    endReading()
                    break
                }
                do { try await readThrottle?.take(chunk.count) } catch {
                    repository.releaseChunkWork(bytes: largest)
                    throw error
                }
                progress.addRead(chunk.count)
                repository.byteBudget.release(largest - min(chunk.count, largest))
                let held = min(chunk.count, largest)
                let index = results.reserve()
                group.addTask { [repository, progress] in
                    // A chunk that will wait at a shut gate (a new store's lock not won yet) gives its request slot
                    // back: it makes no request while it waits, and the byte budget still bounds what waits. Reading
                    // ahead then fills packs, not just a slot's worth of chunks, so the first uploads can start as
                    // soon as the lock is won.
                    let holdsSlot = !(gate.map { !$0.isOpen } ?? false)
                    if !holdsSlot { repository.chunkSlots.release() }
                    defer {
                        repository.byteBudget.release(held)
                        if holdsSlot { repository.chunkSlots.release() }
                    }
                    do {
                        let (ref, upload) = try await repository.addChunk(chunk, gate: gate, statistics: statistics)
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
}

/// A file's place among those being read, given back once: when its reading ends, or at the latest when its task
/// does.
private final class ReadingPlace: Sendable {
    private let semaphore: AsyncSemaphore
    private let given = Atomic(false)

    init(_ semaphore: AsyncSemaphore) { self.semaphore = semaphore }

    func give() {
        if !given.exchange(true, ordering: .acquiringAndReleasing) { semaphore.release() }
    }
}
