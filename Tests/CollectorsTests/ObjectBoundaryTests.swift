import SampleData
import Testing

@testable import Collectors

/// How many stored chunks an edit of one object dirties, measured on a generated stream (the claim in
/// `ObjectBoundary`'s documentation rests on this).
@Suite("object-aligned stream chunking")
struct ObjectBoundaryTests {
    /// A stream cut as the type collector cuts it: each chunk is the indices of its objects.
    static func chunks(_ sizes: [Int], names: [String]) -> [[Int]] {
        var chunks: [[Int]] = []
        var current: [Int] = []
        var pending = 0
        for (index, size) in sizes.enumerated() {
            current.append(index)
            pending += size + 1  // the object and its newline
            if ObjectBoundary.cutsAfter(namespace: "ns", name: names[index], pending: pending) {
                chunks.append(current)
                current = []
                pending = 0
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Chunks of the edited stream that the store does not hold yet: new object groups, and the edited object's.
    static func dirtied(before: [[Int]], after: [[Int]], edited: Int) -> Int {
        let old = Set(before)
        return after.count { !old.contains($0) || $0.contains(edited) }
    }

    @Test("an edit that keeps the size dirties one chunk; a size change dirties a few until boundaries resynchronise")
    func editsDirtyFewChunks() {
        var random = SplitMix(seed: 2024)
        let count = 5000
        let names = (0..<count).map { "object-\($0)" }
        let sizes = (0..<count).map { _ in Int.random(in: 200...6000, using: &random) }
        let before = Self.chunks(sizes, names: names)
        var sameSize: [Int] = []
        var resized: [Int] = []
        for _ in 0..<500 {
            let edited = Int.random(in: 0..<count, using: &random)
            sameSize.append(Self.dirtied(before: before, after: before, edited: edited))
            var changed = sizes
            changed[edited] = max(1, changed[edited] + Int.random(in: -3000...3000, using: &random))
            resized.append(Self.dirtied(before: before, after: Self.chunks(changed, names: names), edited: edited))
        }
        #expect(sameSize.allSatisfy { $0 == 1 }, "a same-size edit rewrites exactly its own chunk")
        let mean = Double(resized.reduce(0, +)) / Double(resized.count)
        let worst = resized.max() ?? 0
        print(
            "object boundaries: a resized object dirtied \(mean) chunks on average, at most \(worst), of \(before.count)"
        )
        #expect(resized.allSatisfy { $0 >= 1 })
        #expect(mean < 1.5, "boundaries resynchronise at the next identity cut (\(mean))")
        #expect(worst <= 6, "and never drift far (\(worst))")
    }
}
