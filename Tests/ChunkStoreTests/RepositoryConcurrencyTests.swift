import ChunkStore
import TestSupport
import Testing

/// Many tasks putting the same chunks at once store each chunk exactly once.
@Suite("Repository concurrency")
struct RepositoryConcurrencyTests {
    static let distinct = (0..<50).map { TestData.random(count: 2000 + $0, seed: UInt64(1000 + $0)) }

    @Test func concurrentPutsUploadEachChunkOnce() async throws {
        let temp = try TemporaryDirectory("repo-concurrent")
        defer { temp.remove() }
        let counting = CountingStore(try LocalDirectoryStore(root: temp.path, create: true))
        let repository = try await Repository.openOrCreate(counting)

        let refs = try await withThrowingTaskGroup(of: ChunkRef.self) { group in
            for index in 0..<1000 {
                let chunk = Self.distinct[index % Self.distinct.count]
                group.addTask { try await repository.putChunk(chunk) }
            }
            var refs: [ChunkRef] = []
            for try await ref in group { refs.append(ref) }
            return refs
        }
        #expect(refs.count == 1000)
        #expect(Set(refs.map(\.id)) == Set(Self.distinct.map { ChunkID(hashing: $0) }))

        try await repository.flushPacks()
        #expect(counting.packPuts == 1, "50 small chunks fill one pack")
        #expect(counting.putCounts.keys.count { $0.hasPrefix(IndexFile.prefix) } == 1, "one index object names it")
        let packs = await repository.indexedLocations()
        #expect(packs.count == 1)
        #expect(packs.values.first?.count == 50, "each chunk once in the pack: \(packs.values.first?.count ?? 0)")
        let stats = repository.statistics.current
        #expect(stats.newChunks == 50)
        #expect(stats.reusedChunks == 950)
        for chunk in Self.distinct.prefix(5) {
            #expect(try await repository.getChunk(ChunkID(hashing: chunk)) == chunk)
        }
    }

    @Test func secondInstanceOnTheSameStoreUploadsNothingAgain() async throws {
        let temp = try TemporaryDirectory("repo-second")
        defer { temp.remove() }
        let first = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        for chunk in Self.distinct { try await first.putChunk(chunk) }
        try await first.flushPacks()

        let counting = CountingStore(try LocalDirectoryStore(root: temp.path))
        let second = try await Repository.open(counting)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { try await second.putChunk(Self.distinct[index % Self.distinct.count]) }
            }
            try await group.waitForAll()
        }
        #expect(counting.putCounts.isEmpty, "existing chunks were uploaded again: \(counting.putCounts.count) keys")
        #expect(second.statistics.current.newChunks == 0)
        #expect(second.statistics.current.reusedChunks == 200)

        let fresh = TestData.random(count: 1234, seed: 777)
        try await second.putChunk(fresh)
        try await second.flushPacks()
        #expect(counting.packPuts == 1, "a chunk the store lacks is still stored")
        #expect(try await second.getChunk(ChunkID(hashing: fresh)) == fresh)
    }
}
