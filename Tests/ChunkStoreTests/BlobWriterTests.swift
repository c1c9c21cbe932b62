import ChunkStore
import SampleData
import TestSupport
import Testing

@Suite("Streaming blob writer")
struct BlobWriterTests {
    @Test(
        "appending in random pieces yields exactly the chunks of cutting the whole stream at once",
        arguments: [1, 2, 3])
    func piecesMatchWhole(seed: UInt64) async throws {
        let temp = try TemporaryDirectory("blobwriter")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        var random = SplitMix(seed: seed)
        let bytes = (0..<700_000).map { _ in UInt8.random(in: 0...40, using: &random) }  // compressible, many cuts
        let expected = bytes.withUnsafeBytes { repository.resourceChunker.cuts(of: $0) }

        let writer = BlobWriter(repository: repository, chunker: repository.resourceChunker)
        var offset = 0
        while offset < bytes.count {
            let length = min(Int.random(in: 1...50_000, using: &random), bytes.count - offset)
            try await writer.append(bytes[offset..<offset + length])
            offset += length
        }
        #expect(writer.count == Int64(bytes.count))
        let refs = try await writer.finish()
        #expect(refs.map(\.length) == expected)
        #expect(try await repository.readBlob(refs) == bytes)
        #expect(try await repository.putBlob(bytes) == refs)
    }

    @Test("an empty stream has no chunks")
    func empty() async throws {
        let temp = try TemporaryDirectory("blobwriter")
        defer { temp.remove() }
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        let writer = BlobWriter(repository: repository, chunker: repository.resourceChunker)
        #expect(try await writer.finish().isEmpty)
    }
}
