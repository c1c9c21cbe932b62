import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import SampleData
import TestSupport
import Testing

@testable import Restorer

@Suite("Persistent volume data")
struct VolumeDataTests {
    @Test(
        "hostPath volume data is backed up with the resources, incrementally, and restored byte-identically elsewhere")
    func roundTrip() async throws {
        let temp = try TemporaryDirectory("volumes")
        defer { temp.remove() }
        try SampleData(seed: 9).generate(into: temp.sub("node/data-a"), bytes: 1 << 20)
        let source = try await KubeSimServer.start(KubeSimConfiguration())
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        let sourceClient = KubeClient(configuration: ClusterConfiguration(server: source.baseURL))
        let resources = try await sourceClient.discover()
        let pv = try #require(resources.first { $0.name == "persistentvolumes" })
        let pvc = try #require(resources.first { $0.name == "persistentvolumeclaims" })
        let ns = try #require(resources.first { $0.name == "namespaces" })
        try await sourceClient.create(ns, namespace: nil, json: Array(#"{"metadata":{"name":"app"}}"#.utf8))
        // The node sees /nodes/n1/…; here it is under the temp directory.
        try await sourceClient.create(
            pv, namespace: nil,
            json: Array(
                #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-a"},"spec":{"hostPath":{"path":"/nodes/n1/data-a"},"capacity":{"storage":"1Gi"},"claimRef":{"namespace":"app","name":"data"}}}"#
                    .utf8))
        try await sourceClient.create(
            pv, namespace: nil,
            json: Array(
                #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-far"},"spec":{"hostPath":{"path":"/nodes/n2/unreachable"},"claimRef":{"namespace":"app","name":"far"}}}"#
                    .utf8))
        try await sourceClient.create(
            pvc, namespace: "app", json: Array(#"{"metadata":{"name":"data"},"spec":{"volumeName":"pv-a"}}"#.utf8))
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        let nodeMap = try VolumePathMap(parsing: "/nodes/n1=\(temp.sub("node"))")

        func backup(_ name: String) async throws -> BackupRecord {
            var request = BackupRecord(
                name: name, filter: ResourceFilter(), ttlSeconds: 3600, storageLocation: "test", cluster: source.baseURL
            )
            request.volumePathMap = nodeMap
            return try await BackupPipeline(collector: ResourceCollector(client: sourceClient, repository: repository))
                .run(request)
        }
        let first = try await backup("first")
        #expect(first.phase == .completed, "\(first.errors)")
        let volume = try #require(first.volumes.first { $0.persistentVolume == "pv-a" })
        #expect(volume.snapshot == "first.pv.pv-a" && volume.logicalBytes > 900_000)
        #expect(first.volumes.first { $0.persistentVolume == "pv-far" }?.skipped?.contains("not reachable") == true)
        #expect(first.warnings.contains { $0.contains("pv-far") })
        let second = try await backup("second")
        #expect(
            second.volumes.first { $0.persistentVolume == "pv-a" }?.newStoredBytes == 0,
            "an unchanged volume stores nothing new")

        let targetClient = KubeClient(configuration: ClusterConfiguration(server: target.baseURL))
        let manifest = try await ResourceReader(repository: repository).manifest(named: "second")
        let pipeline = RestorePipeline(
            restorer: ResourceRestorer(client: targetClient, reader: ResourceReader(repository: repository)),
            volumes: VolumeRestorer(
                repository: repository, pathMap: try VolumePathMap(parsing: "/nodes/n1=\(temp.sub("other-node"))")))
        let (result, volumes) = try await pipeline.run(
            second, manifest: manifest, options: RestoreOptions(), restoreVolumes: true)
        #expect(result.phase == .completed, "\(result.errors) \(result.warnings)")
        #expect(volumes.map(\.persistentVolume) == ["pv-a"])
        #expect(try SampleData.compareTrees(temp.sub("node/data-a"), temp.sub("other-node/data-a")) == [])
        #expect(target.objectCount(resource: "persistentvolumes") == 2)

        // Restoring again into the now non-empty path is refused (nothing overwritten) without the update policy.
        let target2 = try await KubeSimServer.start(KubeSimConfiguration())
        let again = RestorePipeline(
            restorer: ResourceRestorer(
                client: KubeClient(configuration: ClusterConfiguration(server: target2.baseURL)),
                reader: ResourceReader(repository: repository)),
            volumes: VolumeRestorer(
                repository: repository, pathMap: try VolumePathMap(parsing: "/nodes/n1=\(temp.sub("other-node"))")))
        let (secondResult, secondVolumes) = try await again.run(
            second, manifest: manifest, options: RestoreOptions(), restoreVolumes: true)
        #expect(secondResult.phase == .partiallyFailed)
        #expect(secondVolumes.first?.error?.contains("not empty") == true)
        try await source.shutdown()
        try await target.shutdown()
        try await target2.shutdown()
    }
}
