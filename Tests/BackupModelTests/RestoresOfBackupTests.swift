import BackupModel
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import KubeClient
import KubeSim
import Operations
import TestSupport
import Testing

/// The restore record is one type shared by the restorer that writes it and the garbage collector that reads it to
/// find the restores of a deleted backup.
@Suite("Restores of a backup, as the garbage collector finds them")
struct RestoresOfBackupTests {
    static let namespaces = APIResource(
        group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
    static let configMaps = APIResource(
        group: "", version: "v1", name: "configmaps", kind: "ConfigMap", namespaced: true)

    @Test("deleting a backup removes the restores the restorer recorded of that commit, and only those")
    func restoresGoWithTheirBackup() async throws {
        let sim = try await KubeSimServer.start(KubeSimConfiguration())
        let temp = try TemporaryDirectory("model-restores")
        defer { temp.remove() }
        do {
            let client = KubeClient(configuration: ClusterConfiguration(server: sim.baseURL))
            _ = try await client.create(
                Self.namespaces, namespace: nil,
                json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#.utf8))
            _ = try await client.create(
                Self.configMaps, namespace: "shop",
                json: Array(
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"},"data":{"k":"v"}}"#
                        .utf8))
            let repository = try await Repository.openOrCreate(
                try LocalDirectoryStore(root: temp.sub("store"), create: true))
            let backups = BackupOperation(client: client, repository: repository, progress: CollectionProgress())
            var filter = ResourceFilter()
            filter.includeNamespaces = ["shop"]
            for name in ["old", "kept"] {
                let record = try await backups.run(
                    BackupRecord(
                        name: name, filter: filter, ttlSeconds: nil, storageLocation: "test", cluster: sim.baseURL))
                #expect(record.phase == .completed, "\(record.errors)")
            }

            // Two restores as the restorer records them (with their logs), one of each backup.
            let restores = RestoreOperation(client: { client }, repository: repository)
            for (name, backup, target) in [("from-old", "old", "copy-a"), ("from-kept", "kept", "copy-b")] {
                var options = RestoreOptions()
                options.namespaceMappings = ["shop": target]
                let record = try await restores.run(
                    .init(name: name, backup: backup, options: options), log: RunLog())
                #expect(record.phase == .completed && record.created > 0, "\(record.errors)")
            }
            let written = try #require(
                try await repository.record(RestoreRecord.self, key: RestoreRecord.key("from-old")))
            let old = try #require(try await repository.record(BackupRecord.self, key: BackupRecord.key("old")))
            #expect(written.backupCommit == old.commit && written.backupCommit != nil)
            // A restore of an earlier backup that was also called "old": same name, another commit.
            var earlier = written
            earlier.name = "from-earlier-old"
            earlier.backupCommit = CommitID.make()
            try await repository.commitRecord(earlier, key: RestoreRecord.key(earlier.name))
            #expect(try await repository.store.size(of: RestoreRecord.logKey("from-old")) != nil)

            let result = try await GarbageCollector(repository: repository).run(delete: ["old"])
            #expect(result.expired.contains("backup old"))

            let left = Set(try await RestoreRecord.list(repository).map(\.name))
            #expect(left == ["from-kept", "from-earlier-old"])
            #expect(try await repository.store.size(of: RestoreRecord.logKey("from-old")) == nil)
            #expect(try await repository.store.size(of: RestoreRecord.logKey("from-kept")) != nil)
            try await sim.shutdown()
        } catch {
            try? await sim.shutdown()
            throw error
        }
    }
}
