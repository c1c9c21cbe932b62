import ChunkStore
import Synchronization

/// A counter shared by concurrent workers.
public final class Counter: Sendable {
    public let value = Atomic<Int>(0)

    public init() {}
}

/// How benchmarks open stores: as the CLI creates them (encrypted, the production default).
public enum BenchmarkStore {
    public static func open(_ store: any ObjectStore) async throws -> Repository {
        try await Repository.openOrCreate(
            store, config: RepositoryConfig(encryption: .aes256gcm), passwords: FixedPassword("benchmark"))
    }
}

extension Duration {
    /// The duration in seconds, for rates.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
