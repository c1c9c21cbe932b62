import ChunkStore

/// Makes a backup's InProgress record durable once, before the first volume snapshot is committed under it.
///
/// The record is written volatile (`Repository.writeProgressRecord`): a backup whose only commit is its final record
/// pays no barrier for it. A volume snapshot names its backup, so a power cut must never keep a snapshot without the
/// backup's record (it could then never expire with the backup, and a new backup of the same name would not own it);
/// every path that commits one (a volume read here, a node agent's volume) calls `ensureDurable()` first. Concurrent
/// callers share one barrier; a failed one fails every later call too, so no snapshot is committed unanchored.
public actor ProgressAnchor {
    private let repository: Repository
    private let key: String
    private var anchoring: Task<Void, Error>?

    public init(repository: Repository, key: String) {
        self.repository = repository
        self.key = key
    }

    /// Returns once the record is durable (at once after the first call succeeded).
    public func ensureDurable() async throws {
        if let anchoring { return try await anchoring.value }
        let repository = self.repository
        let key = self.key
        // The task inherits the caller's task-locals: the store lock this backup holds, which the barrier checks.
        let task = Task { try await repository.makeProgressRecordDurable(key: key) }
        anchoring = task
        try await task.value
    }
}
