import ChunkStore
import SystemIO

/// Reference counts in 256 binary shards (`refs/counts/<first byte of the id, two hex digits>`), changed only under
/// the exclusive lock.
///
/// The shard count is a trade between the two costs of an operation that touches `k` chunks of a store holding `n`:
/// it rewrites `min(k, 256)` shard objects of about `n / 256` entries (36 bytes each). Each shard object written costs
/// a create, an fsync and a rename whatever its size (about 0.4 ms on this machine's disk), so with 4,096 JSON shards a
/// forget of a 1 GiB backup paid for ~1,500 of them, twice. With 256, a store of a million chunks rewrites at most
/// 36 MB of counts per operation, and a small expiry still touches only the shards of its own chunks.
///
/// Each shard remembers which operations (`+<commit>`, `-<commit>`) it has applied, so a collection that crashes
/// half-way and runs again never applies one twice. That memory is bounded: an operation can only be applied again
/// while its marker (pending marker or expiry journal) exists, so whenever a shard is written it keeps only the
/// operations still in `active` — what it remembers is what is under way, not the store's history.
struct ReferenceCounts {
    let repository: Repository

    /// One operation: its name (`+<commit>` or `-<commit>`), its chunks and the change to each one's count.
    struct Operation {
        var name: String
        var ids: [ChunkID]
        var delta: Int
    }

    static func shardKey(_ shard: Int) -> String { "refs/counts/" + CountShard.name(shard) }

    func shard(_ index: Int) async throws -> CountShard {
        let key = Self.shardKey(index)
        do {
            return try CountShard(decoding: try await repository.store.get(key), key: key)
        } catch ChunkStoreError.objectNotFound {
            return CountShard()
        }
    }

    /// Adds `delta` to the count of every chunk in `ids` under operation `operation`; returns the chunks whose count
    /// is now zero (for a decrement), whether this call or an earlier interrupted one applied it. `active` is every
    /// operation whose marker exists (this one included).
    func apply(_ operation: String, ids: [ChunkID], delta: Int, active: Set<String>) async throws -> [ChunkID] {
        try await apply([Operation(name: operation, ids: ids, delta: delta)], active: active)
    }

    /// Applies several operations in one pass: each shard they touch is read and written once, with every one of
    /// them it has not applied yet (counting the new lists of many backups and expiring others costs one write per
    /// shard, not one per operation and shard). Increments and decrements of one shard land in the same write, so no
    /// shard ever holds a decrement without the increments applied with it. Returns the chunks of the decrements
    /// that are at zero afterwards.
    func apply(_ operations: [Operation], active: Set<String>) async throws -> [ChunkID] {
        var byShard: [Int: [Operation]] = [:]
        for operation in operations {
            for (index, shardIDs) in Dictionary(grouping: operation.ids, by: CountShard.index(of:)) {
                byShard[index, default: []].append(
                    Operation(name: operation.name, ids: shardIDs, delta: operation.delta))
            }
        }
        // Shards are independent: update many at once so their writes (and fsyncs) overlap.
        let slots = AsyncSemaphore(permits: 32)
        return try await withThrowingTaskGroup(of: [ChunkID].self) { group in
            for (index, work) in byShard {
                try await slots.acquire()
                group.addTask {
                    defer { slots.release() }
                    var shard = try await self.shard(index)
                    let missing = work.filter { !shard.applied.contains($0.name) }
                    if !missing.isEmpty {
                        for operation in missing {
                            for id in operation.ids { shard.add(operation.delta, to: id) }
                        }
                        shard.applied = shard.applied.filter { active.contains($0) } + Set(missing.map(\.name)).sorted()
                        try await repository.store.put(Self.shardKey(index), shard.encoded())
                    }
                    return work.filter { $0.delta < 0 }.flatMap(\.ids).filter { shard.counts[$0] == nil }
                }
            }
            var zero: [ChunkID] = []
            for try await ids in group { zero += ids }
            return zero
        }
    }

    /// Every count, for verification and rebuilds (reads all shards: the full-scan path).
    func all() async throws -> [ChunkID: Int] {
        try await allShards().counts
    }

    /// Every count, and the longest applied-operation memory of any shard (to show it stays bounded).
    func allShards() async throws -> (counts: [ChunkID: Int], maxApplied: Int) {
        var result: [ChunkID: Int] = [:]
        var maxApplied = 0
        for object in try await repository.store.listAll(prefix: "refs/counts/") {
            let shard = try CountShard(decoding: try await repository.store.get(object.key), key: object.key)
            for (id, count) in shard.counts { result[id] = Int(count) }
            maxApplied = max(maxApplied, shard.applied.count)
        }
        return (result, maxApplied)
    }
}
