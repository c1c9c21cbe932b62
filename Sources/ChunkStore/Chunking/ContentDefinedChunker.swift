/// FastCDC-style content-defined chunking with a gear rolling hash and normalized chunk sizes.
///
/// A cut falls where the hash of the last 64 bytes has its top bits clear, so boundaries depend only on nearby
/// content: inserting bytes in a file moves the boundaries around the edit and leaves the rest in place, which is
/// what lets an edited file dedup against its previous version. Before the average size a stricter mask (two more
/// bits) applies, after it a looser one, which pulls sizes toward the average.
public struct ContentDefinedChunker: Sendable {
    public let profile: ChunkerProfile
    private let strictMask: UInt64
    private let looseMask: UInt64

    public init(profile: ChunkerProfile) {
        precondition(profile.problem == nil, profile.problem ?? "")
        self.profile = profile
        let bits = profile.average.trailingZeroBitCount
        strictMask = ~UInt64(0) << UInt64(64 - (bits + 2))
        looseMask = ~UInt64(0) << UInt64(64 - (bits - 2))
    }

    /// The length of the chunk that starts at `data`'s first byte. Pass at least `profile.maximum` bytes unless the
    /// stream ends sooner; the result is then between `minimum` and `maximum` (or all of a short tail).
    public func nextCut(in data: UnsafeRawBufferPointer) -> Int {
        let length = min(data.count, profile.maximum)
        if length <= profile.minimum { return length }
        let bytes = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let normal = min(profile.average, length)
        return GearTable.values.withUnsafeBufferPointer { gear in
            var hash: UInt64 = 0
            var index = profile.minimum
            while index < normal {
                hash = (hash &<< 1) &+ gear[Int(bytes[index])]
                if hash & strictMask == 0 { return index + 1 }
                index += 1
            }
            while index < length {
                hash = (hash &<< 1) &+ gear[Int(bytes[index])]
                if hash & looseMask == 0 { return index + 1 }
                index += 1
            }
            return length
        }
    }

    /// Cuts a whole in-memory buffer into chunk lengths.
    public func cuts(of data: UnsafeRawBufferPointer) -> [Int] {
        var lengths: [Int] = []
        var offset = 0
        while offset < data.count {
            let cut = nextCut(in: UnsafeRawBufferPointer(rebasing: data[offset...]))
            lengths.append(cut)
            offset += cut
        }
        return lengths
    }
}

/// The gear hash's 256 random words. They define where chunks are cut, so they are part of the storage format and
/// must never change: they come from splitmix64 seeded with a fixed constant.
enum GearTable {
    static let values: [UInt64] = {
        var state: UInt64 = 0x5645_4C45_524F_4341  // "VELEROCA"
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }()
}
