import SystemIO

/// Finds snapshot records in a store.
public struct SnapshotCatalog: Sendable {
    public let repository: Repository

    public init(repository: Repository) { self.repository = repository }

    public func snapshot(named name: String) async throws -> Snapshot? {
        try await repository.record(Snapshot.self, key: Snapshot.key(name))
    }

    /// Every committed snapshot, oldest first. The records are read 16 at a time (each is a round trip on an object
    /// store; a backup looks its parent up among them).
    public func all() async throws -> [Snapshot] {
        let keys = try await repository.store.listAll(prefix: "snapshots/").map(\.key).filter { $0.hasSuffix(".json") }
        let repository = self.repository
        let read = await keys.concurrentMap(width: 16) { key -> Result<Snapshot?, any Error> in
            do { return .success(try await repository.record(Snapshot.self, key: key)) } catch {
                return .failure(error)
            }
        }
        let snapshots = try read.compactMap { try $0.get() }
        return snapshots.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
    }

    /// The newest snapshot of `source` taken on `hostname`.
    public func latest(source: String, hostname: String) async throws -> Snapshot? {
        try await all().last { $0.source == source && $0.hostname == hostname }
    }
}
