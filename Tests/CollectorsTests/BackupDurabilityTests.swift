import BackupModel
import Collectors
import Foundation
import KubeClient
import KubeSim
import Synchronization
import SystemIO
import TestSupport
import Testing

@testable import ChunkStore

/// What a backup into a local store makes durable, and how many directory fsyncs it pays for that: each directory
/// holding something the committed backup needs is flushed once, the records' directory twice (the InProgress
/// record before anything is committed under it, the final record after it is written), the lock's never.
@Suite("Backup durability")
struct BackupDurabilityTests {
    @Test("a backup flushes each directory of its commit once, the records' twice, and never the lock's")
    func directoryFsyncsPerBackup() async throws {
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                synthetic: SyntheticCluster.Options(namespaces: 2, objectsPerNamespace: 20, clusterScoped: false)))
        let temp = try TemporaryDirectory("backup-durability")
        defer { temp.remove() }
        let synced = Mutex<[String]>([])
        let root = temp.sub("store")
        let store = try LocalDirectoryStore(
            root: root, create: true, pool: .shared,
            directorySync: { directory in
                synced.withLock { $0.append(String(directory.dropFirst(root.count + 1))) }
                try FileSystem.syncDirectory(directory)
            })
        let repository = try await Repository.openOrCreate(store, directories: StoreLayout.withRecords)
        for directory in ["packs/00", "packs/ff", "backups", "index", "locks"] {
            #expect(try FileSystem.status(root + "/" + directory).kind == .directory, "a new store has \(directory)")
        }
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        func backup(_ name: String) async throws -> BackupRecord {
            var pipeline = BackupPipeline(collector: ResourceCollector(client: client, repository: repository))
            pipeline.beforeFinalRecord = {
                try? await repository.writeVolatile(Array("log of \(name)".utf8), key: BackupRecord.logKey(name))
            }
            return try await pipeline.run(
                BackupRecord(
                    name: name, filter: ResourceFilter(), ttlSeconds: 3600, storageLocation: "test",
                    cluster: server.baseURL))
        }
        _ = try await backup("first")
        // Edit one object so the second backup stores something new (one pack), then count only its fsyncs.
        let configMaps = try #require(try await client.discover().first { $0.name == "configmaps" })
        _ = try await client.create(
            configMaps, namespace: "ns-000",
            json: Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"new"},"data":{"k":"v"}}"#.utf8))
        synced.withLock { $0 = [] }
        let second = try await backup("second")
        try await server.shutdown()
        #expect(second.phase == .completed, "\(second.errors)")

        let flushed = synced.withLock { $0 }
        let counts = Dictionary(flushed.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.filter { $0.key != "backups" }.values.allSatisfy { $0 == 1 }, "once each: \(flushed)")
        #expect(counts["backups"] == 2, "the InProgress and the final record: \(flushed)")
        #expect(counts["locks"] == nil, "the lock is never flushed: \(flushed)")
        #expect(flushed.last == "backups", "the record's directory is flushed last, after the record: \(flushed)")
        for directory in ["index", "resource-manifests", "refs/pending", "refs/lists"] {
            #expect(counts[directory] == 1, "\(directory) holds part of the commit: \(flushed)")
        }
        let packDirectories = flushed.filter { $0.hasPrefix("packs") }
        #expect(packDirectories.count == 1, "one new pack, in a shard the store was made with: \(flushed)")
        #expect(flushed.count == 7, "\(flushed)")

        // What the record's barrier flushed is there, the log beside it included; no lock is left.
        let reopened = try await Repository.open(try LocalDirectoryStore(root: root))
        #expect(try await reopened.record(BackupRecord.self, key: BackupRecord.key("second"))?.phase == .completed)
        #expect(try await reopened.store.get(BackupRecord.logKey("second")) == Array("log of second".utf8))
        #expect(try await reopened.store.listAll(prefix: "locks/").isEmpty)
    }
}
