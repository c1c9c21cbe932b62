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
/// holding something the committed backup needs is flushed once, the records' directory once (the InProgress
/// record is volatile until a volume snapshot is committed under it), the lock's never.
@Suite("Backup durability")
struct BackupDurabilityTests {
    @Test("a backup without volumes flushes each directory of its commit once, the records' too, the lock's never")
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
        #expect(counts.values.allSatisfy { $0 == 1 }, "once each: \(flushed)")
        #expect(counts["backups"] == 1, "the final record only: \(flushed)")
        #expect(counts["locks"] == nil, "the lock is never flushed: \(flushed)")
        #expect(flushed.last == "backups", "the record's directory is flushed last, after the record: \(flushed)")
        for directory in ["index", "resource-manifests", "refs/pending", "refs/lists"] {
            #expect(counts[directory] == 1, "\(directory) holds part of the commit: \(flushed)")
        }
        let packDirectories = flushed.filter { $0.hasPrefix("packs") }
        #expect(packDirectories.count == 1, "one new pack, in a shard the store was made with: \(flushed)")
        #expect(flushed.count == 6, "\(flushed)")

        // What the record's barrier flushed is there, the log beside it included; no lock is left.
        let reopened = try await Repository.open(try LocalDirectoryStore(root: root))
        #expect(try await reopened.record(BackupRecord.self, key: BackupRecord.key("second"))?.phase == .completed)
        #expect(try await reopened.store.get(BackupRecord.logKey("second")) == Array("log of second".utf8))
        #expect(try await reopened.store.listAll(prefix: "locks/").isEmpty)
    }

    @Test("a volume snapshot is committed only after the backup's InProgress record is durable")
    func volumeAnchorsTheRecord() async throws {
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                synthetic: SyntheticCluster.Options(namespaces: 1, objectsPerNamespace: 5, clusterScoped: false)))
        let temp = try TemporaryDirectory("backup-durability-volume")
        defer { temp.remove() }
        let volume = temp.sub("volume")
        _ = try FileSystem.makeDirectories(volume, mode: 0o700)
        try FileSystem.writeAtomically(volume + "/data", parts: [Array("volume data".utf8)], mode: 0o600)
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        let volumes = try #require(try await client.discover().first { $0.name == "persistentvolumes" })
        _ = try await client.create(
            volumes, namespace: nil,
            json: Array(
                #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-data"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"\#(volume)"}}}"#
                    .utf8))
        // The order of events: directory flushes, and the backup record's content whenever "backups" is flushed.
        let events = Mutex<[String]>([])
        let root = temp.sub("store")
        let store = try LocalDirectoryStore(
            root: root, create: true, pool: .shared,
            directorySync: { directory in
                let name = String(directory.dropFirst(root.count + 1))
                var event = name
                if name == "backups",
                    let bytes = try? FileSystem.readFile(root + "/" + BackupRecord.key("with-volume")),
                    let record = try? StoreJSON.decode(BackupRecord.self, from: bytes, key: name)
                {
                    event += " (record \(record.phase.rawValue))"
                }
                events.withLock { $0.append(event) }
                try FileSystem.syncDirectory(directory)
            })
        let repository = try await Repository.openOrCreate(store, directories: StoreLayout.withRecords)
        let record = try await BackupPipeline(collector: ResourceCollector(client: client, repository: repository)).run(
            BackupRecord(
                name: "with-volume", filter: ResourceFilter(), ttlSeconds: 3600, storageLocation: "test",
                cluster: server.baseURL))
        try await server.shutdown()
        #expect(record.phase == .completed, "\(record.errors)")
        #expect(record.volumes.compactMap(\.snapshot) == ["with-volume.pv.pv-data"])

        let flushed = events.withLock { $0 }
        let anchored = try #require(
            flushed.firstIndex(of: "backups (record InProgress)"), "the InProgress record is flushed: \(flushed)")
        let snapshotRecord = try #require(flushed.firstIndex(of: "snapshots"), "\(flushed)")
        #expect(anchored < snapshotRecord, "anchored before the snapshot's record: \(flushed)")
        #expect(flushed.last == "backups (record Completed)", "\(flushed)")
    }
}
