import Foundation
import SystemIO

extension TreeBackup {
    /// Whether `run` takes `runIntoNewStore`: the first lock on a store this process has just made, with no parent
    /// asked for.
    func readsBeforeTheLock(parent: String?) -> Bool {
        parent == nil && repository.listsIndexBesideLocks
    }

    /// The first backup into a store this process has just made: the tree is walked and the files read (chunked,
    /// hashed and sealed) while the lock is taken, not after it, so the first packs are ready when it is won. Only
    /// adding chunks to packs (deciding what the store has, and uploading) and the commit need the lock: each chunk
    /// waits at a gate that opens once the lock is won and the index refreshed. Such a store has no snapshot of
    /// this source to compare against (one made by another process in the moments since is not used; a parent is
    /// an optimisation only), so nothing read depends on the lock; that the name is not taken is checked as always.
    /// However it ends, the reading (and every upload it started) has ended before the lock is released.
    func runIntoNewStore(source: String, name: String, backupCommit: String?) async throws -> Snapshot {
        let started = ContinuousClock.now
        let catalog = SnapshotCatalog(repository: repository)
        let nameTaken = Task { try await catalog.snapshot(named: name) != nil }
        let hostname = await HostName.current()
        let entries: [TreeEntry]
        do { entries = try await walk(source) } catch {
            nameTaken.cancel()
            throw error
        }
        let fileIndices = entries.indices.filter { entries[$0].kind == .file }
        let plan = Plan(
            name: name, source: source, hostname: hostname, started: started, statistics: StoreStatistics(),
            entries: entries, fileIndices: fileIndices, unchanged: 0, parent: nil, parentEntries: [],
            backupCommit: backupCommit)
        let gate = Gate()
        let reading = startReading(fileIndices, of: plan, gate: gate)
        do {
            return try await withTaskCancellationHandler {
                try await StoreLock.withLock(.shared, repository: repository, operation: "snapshot \(name)") {
                    gate.open()
                    do {
                        if try await nameTaken.value {
                            throw ChunkStoreError.snapshotExists(name: name, store: repository.store.location)
                        }
                    } catch {
                        await reading.stop()
                        throw error
                    }
                    return try await finish(plan, reading: reading)
                }
            } onCancel: {
                reading.task.cancel()
                nameTaken.cancel()
            }
        } catch {
            // The lock was not won (nothing was added to a pack), or the work under it has stopped.
            gate.fail(error)
            await reading.stop()
            throw error
        }
    }
}
