import ChunkStore
import SystemIO

/// Reference counts in 4,096 shards (`refs/counts/<first three hex digits>`), changed only under the exclusive lock.
///
/// Small shards keep an operation's cost near the size of its own chunk list rather than the store's.
///
/// Each shard remembers which operations (`+<commit>`, `-<commit>`) it has applied, so a collection that crashes
/// half-way and runs again never applies one twice. That memory is bounded: an operation can only be applied again
/// while its marker (pending marker or expiry journal) exists, so whenever a shard is written it keeps only the
/// operations still in `active` — what it remembers is what is under way, not the store's history.
struct ReferenceCounts {
    let repository: Repository

    struct Shard: Codable {
        var applied: [String] = []
        var counts: [String: Int] = [:]
    }

    static func shardKey(_ prefix: String) -> String { "refs/counts/\(prefix)" }

    func shard(_ prefix: String) async throws -> Shard {
        try await repository.record(Shard.self, key: Self.shardKey(prefix)) ?? Shard()
    }

    /// Adds `delta` to the count of every chunk in `ids` under operation `operation`; returns the chunks whose count
    /// is now zero (for a decrement), whether this call or an earlier interrupted one applied it. `active` is every
    /// operation whose marker exists (this one included).
    func apply(_ operation: String, ids: [ChunkID], delta: Int, active: Set<String>) async throws -> [ChunkID] {
        try await apply([(operation, ids)], delta: delta, active: active)
    }

    /// Applies several operations of the same sign in one pass: each shard they touch is read and written once, with
    /// every one of them it has not applied yet (counting the pending lists of many backups costs one write per
    /// shard, not one per backup and shard). Returns the chunks at zero after a decrement.
    func apply(_ operations: [(operation: String, ids: [ChunkID])], delta: Int, active: Set<String>) async throws
        -> [ChunkID]
    {
        var byShard: [String: [(operation: String, ids: [ChunkID])]] = [:]
        for (operation, ids) in operations {
            for (prefix, shardIDs) in Dictionary(grouping: ids, by: { String($0.hex.prefix(3)) }) {
                byShard[prefix, default: []].append((operation, shardIDs))
            }
        }
        // Shards are independent: update many at once so their writes (and fsyncs) overlap.
        let slots = AsyncSemaphore(permits: 32)
        return try await withThrowingTaskGroup(of: [ChunkID].self) { group in
            for (prefix, work) in byShard {
                try await slots.acquire()
                group.addTask {
                    defer { slots.release() }
                    var shard = try await self.shard(prefix)
                    let missing = work.filter { !shard.applied.contains($0.operation) }
                    if !missing.isEmpty {
                        for (_, ids) in missing {
                            for id in ids {
                                let count = (shard.counts[id.hex] ?? 0) + delta
                                shard.counts[id.hex] = count > 0 ? count : nil
                            }
                        }
                        shard.applied = shard.applied.filter { active.contains($0) } + missing.map(\.operation)
                        try await repository.store.put(
                            Self.shardKey(prefix), try StoreJSON.encode(shard, pretty: false))
                    }
                    return delta < 0 ? work.flatMap(\.ids).filter { shard.counts[$0.hex] == nil } : []
                }
            }
            var zero: [ChunkID] = []
            for try await ids in group { zero += ids }
            return zero
        }
    }

    /// Every count, for verification and rebuilds (reads all shards: the full-scan path).
    func all() async throws -> [String: Int] {
        try await allShards().counts
    }

    /// Every count, and the longest applied-operation memory of any shard (to show it stays bounded).
    func allShards() async throws -> (counts: [String: Int], maxApplied: Int) {
        var result: [String: Int] = [:]
        var maxApplied = 0
        for object in try await repository.store.listAll(prefix: "refs/counts/") {
            let shard = try await shard(String(object.key.dropFirst("refs/counts/".count)))
            result.merge(shard.counts) { a, _ in a }
            maxApplied = max(maxApplied, shard.applied.count)
        }
        return (result, maxApplied)
    }
}
