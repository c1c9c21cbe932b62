import ChunkStore
import SystemIO
import TestSupport
import Testing

/// A damaged or missing chunk is an error naming it, never silently wrong data.
@Suite("Repository corruption")
struct RepositoryCorruptionTests {
    @Test(arguments: [true, false])
    func flippedByteOnDiskIsCorruptChunk(compressible: Bool) async throws {
        let temp = try TemporaryDirectory("repo-corrupt")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        let plain = compressible ? TestData.text(count: 30_000) : TestData.random(count: 30_000, seed: 31)
        let id = try await repository.putChunk(plain).id
        try await repository.flushPacks()
        let pack = try #require(await repository.pack(holding: id))
        let path = temp.sub(pack.key)
        var stored = try FileSystem.readFile(path)
        // The pack holds this one blob first, then its header: a byte inside the blob.
        stored[20] ^= 0x40
        let file = try FileDescriptor.openForWriting(path)
        try stored.withUnsafeBytes { try file.write($0, at: 0) }
        file.close()

        let error = await #expect(throws: ChunkStoreError.self) { try await repository.getChunk(id) }
        guard case .corruptChunk(let reportedID, let key, _)? = error else {
            Issue.record("expected corruptChunk, got \(String(describing: error))")
            return
        }
        #expect(reportedID == id)
        #expect(key == pack.key, "the error names the pack")
        #expect(error?.description.contains(id.hex) == true)
    }

    @Test func deletedChunkIsMissingChunk() async throws {
        let temp = try TemporaryDirectory("repo-missing")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        let id = try await repository.putChunk(TestData.random(count: 5000, seed: 32)).id
        try await repository.flushPacks()
        let pack = try #require(await repository.pack(holding: id))
        try FileSystem.removeFile(temp.sub(pack.key))

        let error = await #expect(throws: ChunkStoreError.self) { try await repository.getChunk(id) }
        guard case .missingChunk(let reportedID, let key)? = error else {
            Issue.record("expected missingChunk, got \(String(describing: error))")
            return
        }
        #expect(reportedID == id)
        #expect(key == pack.key)
        #expect(error?.description.contains(id.hex) == true)
    }

    @Test func blobWithWrongChunkLengthIsCorrupt() async throws {
        let temp = try TemporaryDirectory("repo-blob-length")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(LocalDirectoryStore(root: temp.path, create: true))
        let ref = try await repository.putChunk(TestData.random(count: 100, seed: 33))
        let error = await #expect(throws: ChunkStoreError.self) {
            try await repository.readBlob([ChunkRef(id: ref.id, length: 99)])
        }
        #expect(caseName(error) == "corruptChunk")
    }
}
