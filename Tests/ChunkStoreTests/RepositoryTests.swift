import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

@Suite("Repository basics")
struct RepositoryTests {
    @Test func openOfMissingOrEmptyStoreIsRepositoryNotFound() async throws {
        let temp = try TemporaryDirectory("repo-open")
        defer { temp.remove() }
        for root in [temp.sub("missing"), temp.path] {
            let error = await #expect(throws: ChunkStoreError.self) {
                try await Repository.open(LocalDirectoryStore(root: root))
            }
            #expect(caseName(error) == "repositoryNotFound", "opening \(root)")
            #expect(error?.description.contains(root) == true)
        }
        #expect(try FileSystem.contentsOfDirectory(temp.path).isEmpty, "a failed open writes nothing")
    }

    @Test func openOrCreateWritesAConfigThatOpenReads() async throws {
        let temp = try TemporaryDirectory("repo-create")
        defer { temp.remove() }
        let created = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        #expect(try FileSystem.status(temp.sub(RepositoryConfig.key)).kind == .regular)
        let opened = try await Repository.open(LocalDirectoryStore(root: temp.path))
        #expect(opened.config == created.config)
        #expect(opened.config.volumeChunker == .volume)
        let again = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path))
        #expect(again.config.id == created.config.id, "openOrCreate on an existing store keeps its config")
    }

    @Test func unknownFormatVersionIsRefused() async throws {
        let temp = try TemporaryDirectory("repo-version")
        defer { temp.remove() }
        let store = try LocalDirectoryStore(root: temp.path)
        var config = RepositoryConfig()
        config.version = RepositoryConfig.currentVersion + 1
        try await store.put(RepositoryConfig.key, try StoreJSON.encode(config))
        let error = await #expect(throws: ChunkStoreError.self) { try await Repository.open(store) }
        #expect(caseName(error) == "unsupportedRepository")

        try await store.put(RepositoryConfig.key, Array("{not json".utf8))
        let damaged = await #expect(throws: ChunkStoreError.self) { try await Repository.open(store) }
        #expect(caseName(damaged) == "corruptRecord")
    }

    @Test func chunksRoundTripAndStatisticsCountNewVersusReused() async throws {
        let temp = try TemporaryDirectory("repo-chunks")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        let text = TestData.text(count: 50_000)
        let random = TestData.random(count: 20_000, seed: 3)

        let textRef = try await repository.putChunk(text)
        #expect(textRef == ChunkRef(id: ChunkID(hashing: text), length: text.count))
        try await repository.putChunk(random)
        try await repository.putChunk(text)
        try await repository.putChunk(text)

        let readText = try await repository.getChunk(textRef.id)
        let readRandom = try await repository.getChunk(ChunkID(hashing: random))
        #expect(readText.count == text.count && readText == text, "text chunk round trips")
        #expect(readRandom.count == random.count && readRandom == random, "random chunk round trips")
        #expect(await repository.hasChunk(textRef.id))
        #expect(await !repository.hasChunk(ChunkID(hashing: [9, 9, 9])))
        try await repository.flushPacks()
        let pack = try #require(await repository.pack(holding: textRef.id))
        #expect(pack == (await repository.pack(holding: ChunkID(hashing: random))), "both chunks share one pack")
        let packSize = try #require(try FileSystem.statusIfExists(temp.sub(pack.key))).size
        // Blobs as lz4 frames with an 8-byte header; the pack adds a 28-byte header, 40 bytes per entry, 4 bytes.
        let storedSize = packSize - Int64(random.count + ChunkCodec.headerSize) - 28 - 2 * 40 - 4
        #expect(storedSize > 0 && storedSize < Int64(text.count), "text chunks are stored compressed")

        let stats = repository.statistics.current
        #expect(stats.newChunks == 2)
        #expect(stats.reusedChunks == 2)
        #expect(stats.logicalBytes == Int64(3 * text.count + random.count))
        #expect(stats.newPlainBytes == Int64(text.count + random.count))
        #expect(stats.newStoredBytes == storedSize + Int64(random.count + ChunkCodec.headerSize))
        #expect(stats.readChunks == 2)
    }

    @Test func blobsRoundTripAcrossManyChunks() async throws {
        let temp = try TemporaryDirectory("repo-blob")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        let blob = TestData.random(count: 700_000, seed: 12)
        let refs = try await repository.putBlob(blob)
        #expect(refs.count > 3, "a 700 KB blob cuts into several resource chunks")
        #expect(refs.reduce(0) { $0 + $1.length } == blob.count)
        let read = try await repository.readBlob(refs)
        #expect(read.count == blob.count && read == blob, "blob round trips")
        #expect(try await repository.putBlob(blob) == refs, "the same blob cuts and names identically")
        #expect(try await repository.readBlob([]) == [])
    }
}
