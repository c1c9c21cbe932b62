import SampleData

/// Deterministic byte buffers for tests.
enum TestData {
    /// `count` pseudo-random bytes from splitmix64 seeded with `seed`.
    static func random(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            while index < count {
                var word = generator.next()
                for _ in 0..<min(8, count - index) {
                    buffer[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
            initialized = count
        }
    }

    /// `count` bytes of repetitive English-like text (lz4 compresses it well).
    static func text(count: Int) -> [UInt8] {
        let sentence = Array("the quick brown fox jumps over the lazy dog; pod restarted, volume attached.\n".utf8)
        return (0..<count).map { sentence[$0 % sentence.count] }
    }
}

/// The case name of an enum value (`ChunkStoreError.missingChunk(...)` → "missingChunk"), for checking which error
/// was thrown without spelling out every payload.
func caseName(_ value: Any?) -> String? {
    guard let value else { return nil }
    let mirror = Mirror(reflecting: value)
    return mirror.children.first?.label ?? String(describing: value)
}
