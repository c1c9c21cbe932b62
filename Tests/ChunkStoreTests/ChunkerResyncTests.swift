import ChunkStore
import Testing

/// Inserting or deleting bytes moves only the boundaries near the edit: the chunks before and after it are shared.
@Suite("Content-defined chunker resynchronisation")
struct ChunkerResyncTests {
    enum Edit: CustomTestStringConvertible {
        case insert(offset: Int, count: Int)
        case delete(offset: Int, count: Int)
        var testDescription: String {
            switch self {
            case .insert(let offset, let count): "insert \(count) bytes at \(offset)"
            case .delete(let offset, let count): "delete \(count) bytes at \(offset)"
            }
        }
        func apply(to data: [UInt8]) -> [UInt8] {
            var result = data
            switch self {
            case .insert(let offset, let count):
                result.insert(contentsOf: TestData.random(count: count, seed: 4242), at: offset)
            case .delete(let offset, let count):
                result.removeSubrange(offset..<offset + count)
            }
            return result
        }
    }

    static let profile = ChunkerProfile(minimum: 2 << 10, average: 8 << 10, maximum: 32 << 10)

    private static func chunkIDs(_ data: [UInt8]) -> [ChunkID] {
        let cuts = data.withUnsafeBytes { ContentDefinedChunker(profile: profile).cuts(of: $0) }
        var ids: [ChunkID] = []
        var offset = 0
        for length in cuts {
            ids.append(data[offset..<offset + length].withUnsafeBytes { ChunkID(hashing: $0) })
            offset += length
        }
        return ids
    }

    @Test(arguments: [
        Edit.insert(offset: 2_000_000, count: 1), .insert(offset: 1_500_003, count: 5000),
        .insert(offset: 3_333_333, count: 40_000), .delete(offset: 2_000_000, count: 1),
        .delete(offset: 1_234_567, count: 3000), .delete(offset: 2_500_000, count: 50_000),
    ])
    func editChangesOnlyNearbyChunks(edit: Edit) {
        let original = TestData.random(count: 4 << 20, seed: 2024)
        let edited = edit.apply(to: original)
        let before = Self.chunkIDs(original)
        let after = Self.chunkIDs(edited)

        let commonPrefix = zip(before, after).prefix { $0 == $1 }.count
        let commonSuffix = zip(before.reversed(), after.reversed()).prefix { $0 == $1 }.count
        let changedBefore = before.count - commonPrefix - commonSuffix
        let changedAfter = after.count - commonPrefix - commonSuffix
        // Chunks wholly inside a large inserted (deleted) region are new (gone). Beyond those, at most 3 chunks
        // around a small edit differ; a large edit may also swallow one original cut just past its end.
        let spanned: (inserted: Int, deleted: Int, allowance: Int)
        switch edit {
        case .insert(_, let count): spanned = (count / Self.profile.minimum, 0, count > 8192 ? 4 : 3)
        case .delete(_, let count): spanned = (0, count / Self.profile.minimum, count > 8192 ? 4 : 3)
        }
        #expect(
            changedBefore <= spanned.allowance + spanned.deleted,
            "\(changedBefore) of \(before.count) original chunks changed")
        #expect(
            changedAfter <= spanned.allowance + spanned.inserted,
            "\(changedAfter) of \(after.count) edited chunks are new")
        #expect(
            commonPrefix > before.count / 8 && commonSuffix > before.count / 8, "both sides of the edit stay shared")
        let shared = Set(before).intersection(after).count
        #expect(Double(shared) >= 0.95 * Double(before.count))
    }
}
