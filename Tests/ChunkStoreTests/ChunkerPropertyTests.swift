import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// Properties every cut list must have, over random data of awkward sizes and two profiles.
@Suite("Content-defined chunker properties")
struct ChunkerPropertyTests {
    static let small = ChunkerProfile(minimum: 2 << 10, average: 8 << 10, maximum: 32 << 10)

    enum Size: CustomTestStringConvertible, CaseIterable {
        case empty, one, belowMinimum, exactlyMaximum, large
        func bytes(for profile: ChunkerProfile) -> Int {
            switch self {
            case .empty: 0
            case .one: 1
            case .belowMinimum: profile.minimum - 1
            case .exactlyMaximum: profile.maximum
            case .large: 10_000_000 + 17
            }
        }
        var testDescription: String { "\(self)" }
    }

    @Test(arguments: [small, .volume], Size.allCases)
    func cutsCoverTheDataWithinBounds(profile: ChunkerProfile, size: Size) {
        let chunker = ContentDefinedChunker(profile: profile)
        for seed: UInt64 in size == .large ? [1, 2] : [1, 2, 3] {
            let data = TestData.random(count: size.bytes(for: profile), seed: seed &* 7919 &+ UInt64(profile.average))
            let cuts = data.withUnsafeBytes { chunker.cuts(of: $0) }
            #expect(cuts.reduce(0, +) == data.count, "cuts must sum to the length")
            #expect(cuts.allSatisfy { $0 > 0 && $0 <= profile.maximum })
            let inner = cuts.dropLast()
            #expect(inner.allSatisfy { $0 >= profile.minimum }, "only the last chunk may be shorter than the minimum")
            #expect(data.withUnsafeBytes { chunker.cuts(of: $0) } == cuts, "cutting is deterministic")
            switch size {
            case .empty: #expect(cuts.isEmpty)
            case .one, .belowMinimum: #expect(cuts == [data.count])
            case .exactlyMaximum: #expect(cuts.count >= 1)
            case .large:
                // Content-defined: cuts fall between the bounds, averaging near the profile's average.
                let mean = data.count / cuts.count
                #expect(mean > profile.average / 2 && mean < profile.average * 2, "mean chunk \(mean) for \(profile)")
                #expect(inner.contains { $0 != profile.maximum && $0 != profile.minimum })
            }
        }
    }

    @Test func differentContentCutsDifferently() {
        let chunker = ContentDefinedChunker(profile: Self.small)
        let a = TestData.random(count: 1 << 20, seed: 10)
        let b = TestData.random(count: 1 << 20, seed: 11)
        #expect(a.withUnsafeBytes { chunker.cuts(of: $0) } != b.withUnsafeBytes { chunker.cuts(of: $0) })
    }

    @Test func fileChunkReaderYieldsTheSameChunksAsInMemoryCutting() async throws {
        let temp = try TemporaryDirectory("chunk-reader")
        defer { temp.remove() }
        // Larger than the reader's 8 MiB buffer, so refills happen mid-file.
        let data = TestData.random(count: 9_000_000, seed: 99)
        let path = temp.sub("volume.img")
        try data.withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
        let chunker = ContentDefinedChunker(profile: Self.small)
        let expected = data.withUnsafeBytes { chunker.cuts(of: $0) }

        let file = try FileDescriptor.openForReading(path)
        defer { file.close() }
        let reader = FileChunkReader(file: file, chunker: chunker)
        var lengths: [Int] = []
        var offset = 0
        while let chunk = try await reader.next() {
            #expect(chunk.array.elementsEqual(data[offset..<offset + chunk.count]))
            offset += chunk.count
            lengths.append(chunk.count)
        }
        #expect(lengths == expected)
        #expect(reader.bytesRead == Int64(data.count))
    }

    @Test(arguments: [
        ChunkerProfile(minimum: 32, average: 256, maximum: 1024),  // minimum below 64
        ChunkerProfile(minimum: 1024, average: 3000, maximum: 8192),  // average not a power of two
        ChunkerProfile(minimum: 8192, average: 8192, maximum: 32768),  // minimum == average
        ChunkerProfile(minimum: 1024, average: 8192, maximum: 8192),  // average == maximum
        ChunkerProfile(minimum: 1024, average: 1 << 30, maximum: 1 << 31),  // maximum beyond the codec's limit
    ])
    func badProfilesAreRejected(profile: ChunkerProfile) {
        #expect(profile.problem != nil, "\(profile) should be rejected")
    }

    @Test(arguments: [small, .volume, .resources])
    func goodProfilesAreAccepted(profile: ChunkerProfile) {
        #expect(profile.problem == nil)
    }
}
