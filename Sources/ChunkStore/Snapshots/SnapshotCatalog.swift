/// Finds snapshot records in a store.
public struct SnapshotCatalog: Sendable {
    public let repository: Repository

    public init(repository: Repository) { self.repository = repository }

    public func snapshot(named name: String) async throws -> Snapshot? {
        try await repository.record(Snapshot.self, key: Snapshot.key(name))
    }

    /// Every committed snapshot, oldest first.
    public func all() async throws -> [Snapshot] {
        var snapshots: [Snapshot] = []
        for object in try await repository.store.listAll(prefix: "snapshots/") where object.key.hasSuffix(".json") {
            if let snapshot = try await repository.record(Snapshot.self, key: object.key) {
                snapshots.append(snapshot)
            }
        }
        return snapshots.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
    }

    /// The newest snapshot of `source` taken on `hostname`.
    public func latest(source: String, hostname: String) async throws -> Snapshot? {
        try await all().last { $0.source == source && $0.hostname == hostname }
    }
}
