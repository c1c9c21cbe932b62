import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Operations
import TestSupport
import Testing

@Suite("When a backup's log is stored")
struct BackupLogRulesTests {
    static let password = FixedPassword("log-rules-password")

    func operation(_ repository: Repository) -> BackupOperation {
        // Never reached: the backups here stop before they collect anything.
        BackupOperation(
            client: KubeClient(configuration: ClusterConfiguration(server: "http://127.0.0.1:9")),
            repository: repository, progress: CollectionProgress())
    }

    func request(_ name: String) -> BackupRecord {
        BackupRecord(name: name, filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "default", cluster: "test")
    }

    @Test("a backup that fails before its first record still gets its log; a name that is taken keeps its own log")
    func failuresAndTakenNames() async throws {
        let temp = try TemporaryDirectory("log-rules")
        defer { temp.remove() }
        let local = try LocalDirectoryStore(root: temp.sub("store"), create: true)
        _ = try await Repository.openOrCreate(
            local, config: RepositoryConfig(encryption: .aes256gcm), passwords: Self.password)
        // The store refuses backup records: the backup fails before it has one.
        let refusing = try await Repository.open(
            WriteRefusingStore(base: local) { $0.hasPrefix("backups/") && $0.hasSuffix(".json") },
            passwords: Self.password)

        let log = RunLog()
        await #expect(throws: (any Error).self) {
            _ = try await operation(refusing).run(request("unrecorded"), log: log)
        }
        let repository = try await Repository.open(local, passwords: Self.password)
        #expect(try await repository.record(BackupRecord.self, key: BackupRecord.key("unrecorded")) == nil)
        let stored = try #require(
            try await RunLogStore.read(key: BackupRecord.logKey("unrecorded"), repository: repository))
        let text = String(decoding: stored, as: UTF8.self)
        #expect(text.contains("level=error") && text.contains("backups/unrecorded.json"), "\(text)")

        // A backup that exists: a second run of the name is refused and leaves the first one's log alone.
        let existing = request("taken")
        try await StoreLock.withLock(.shared, repository: repository, operation: "test") {
            try await repository.commitRecord(existing, key: BackupRecord.key("taken"))
        }
        let original = Array("the first backup's log\n".utf8)
        try await repository.store.put(BackupRecord.logKey("taken"), original)
        await #expect(throws: CollectorError.self) {
            _ = try await operation(repository).run(request("taken"), log: RunLog())
        }
        #expect(try await RunLogStore.read(key: BackupRecord.logKey("taken"), repository: repository) == original)

        // A name that is no object name gets no log under it.
        await #expect(throws: (any Error).self) {
            _ = try await operation(repository).run(request("../escape"), log: RunLog())
        }
        #expect(try await repository.store.listAll(prefix: "").allSatisfy { !$0.key.contains("escape") })
    }
}
