/// Minimum, average and maximum chunk sizes for content-defined chunking.
public struct ChunkerProfile: Sendable, Equatable, Codable, CustomStringConvertible {
    public var minimum: Int
    public var average: Int
    public var maximum: Int

    /// Volume data: large chunks keep the object count and per-request overhead low.
    public static let volume = ChunkerProfile(minimum: 256 << 10, average: 1 << 20, maximum: 4 << 20)
    /// Resource streams and manifests: small chunks so one changed object dirties little.
    public static let resources = ChunkerProfile(minimum: 8 << 10, average: 32 << 10, maximum: 128 << 10)

    public init(minimum: Int, average: Int, maximum: Int) {
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
    }

    /// Why the profile is unusable, or nil when it is fine.
    public var problem: String? {
        if minimum < 64 { return "minimum chunk size \(minimum) is below 64 bytes" }
        if average & (average - 1) != 0 { return "average chunk size \(average) is not a power of two" }
        if !(minimum < average && average < maximum) {
            return "chunk sizes must satisfy minimum < average < maximum (got \(minimum)/\(average)/\(maximum))"
        }
        if maximum > ChunkCodec.maximumPlainLength { return "maximum chunk size \(maximum) is too large" }
        return nil
    }

    public var description: String { "\(minimum)/\(average)/\(maximum)" }
}
