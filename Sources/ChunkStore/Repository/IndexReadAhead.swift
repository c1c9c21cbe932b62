import SystemIO

/// Index objects read before a lock is held, for reading ahead while the lock is taken (a restore reads its
/// manifest so): on an object store 50 ms away, the lock's write and listing and the index's listing and objects
/// are four round trips one after the other, and the manifest could not be read before all of them.
///
/// What is read with it is not trusted as it stands: chunk bytes are verified against their ids (the keyed hash
/// of their plain bytes), so a read that succeeds returned exactly the chunk asked for, whenever it was read; a
/// pack that garbage collection removed meanwhile makes the read fail, and the caller then reads again under the
/// lock. Which chunks the store holds is only decided by the index the lock refreshes.
public struct PrefetchedIndex: Sendable {
    let table: ChunkTable

    /// Where the read-ahead index locates `id`, as a read plan.
    func readPlan(_ id: ChunkID) -> PackStore.ReadPlan? {
        guard let location = table.locate(id) else { return nil }
        let start = Int(location.offset)
        return .object(key: table.pack(location.pack).id.key, range: start..<start + Int(location.length))
    }
}

extension Repository {
    /// Lists and reads the index objects this process does not know yet, without a lock. They are kept for the
    /// next refresh of the index (the one a lock takes), which uses those its own listing still names instead of
    /// reading them again; the table itself is not changed.
    public func prefetchIndex() async throws -> PrefetchedIndex {
        guard config.hasPacks else { return PrefetchedIndex(table: ChunkTable()) }
        let known = await packs.indexObjectNames
        // The listing of a lock taken ahead (`LockAheadSlot`) when it is won already: one round trip less.
        let listed: Set<String>
        if let ahead = lockAhead?.indexListing {
            listed = ahead
        } else {
            listed = Set(try await store.listAll(prefix: IndexFile.prefix).map(\.key).filter(IndexFile.isIndexKey))
        }
        let names = Array(listed.subtracting(known))
        let objects = try await readIndexObjects(names, slots: AsyncSemaphore(permits: 16))
        prefetchedIndex.withLock { stash in
            for object in objects { stash[object.key] = object.packs }
        }
        var table = ChunkTable()
        for object in objects { table.add(indexObject: object.key, packs: object.packs) }
        return PrefetchedIndex(table: table)
    }

    /// Reads a blob (a manifest) with its reads planned from `index` and, for what it lacks, from the table this
    /// process has. Every chunk is verified as always; see `PrefetchedIndex` for what that makes safe.
    public func readBlob(_ refs: [ChunkRef], readingAhead index: PrefetchedIndex) async throws -> [UInt8] {
        let runs = try await Self.planRuns(refs, maximumBytes: 8 << 20) { id in
            if let plan = index.readPlan(id) { return plan }
            return await self.packs.readPlan(id)
        }
        return try await readBlob(refs, runs: runs)
    }
}
