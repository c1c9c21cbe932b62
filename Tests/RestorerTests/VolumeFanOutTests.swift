import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import SystemIO
import TestSupport
import Testing

@testable import Restorer

/// Many persistent volumes in one backup: only a few are read (or restored) at once, however many there are, and all
/// of them still arrive.
@Suite("Volume fan-out is bounded")
struct VolumeFanOutTests {
    static let volumeCount = 120

    @Test("a backup and a restore of many volumes hold no more than their width of volumes at once", arguments: [1, 3])
    func boundedWidth(width: Int) async throws {
        let temp = try TemporaryDirectory("fan-out")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(KubeSimConfiguration())
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        let client = KubeClient(configuration: ClusterConfiguration(server: source.baseURL))
        let pv = try #require(try await client.discover().first { $0.name == "persistentvolumes" })
        for index in 0..<Self.volumeCount {
            let directory = temp.sub("node/v\(index)")
            try FileSystem.makeDirectories(directory)
            for file in 0..<3 {
                try Data("volume \(index) file \(file)\n".utf8).write(to: URL(fileURLWithPath: directory + "/f\(file)"))
            }
            try await client.create(
                pv, namespace: nil,
                json: Array(
                    #"{"metadata":{"name":"pv-\#(index)"},"spec":{"hostPath":{"path":"/nodes/n1/v\#(index)"}}}"#.utf8))
        }
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        var request = BackupRecord(
            name: "many", filter: ResourceFilter(), ttlSeconds: 3600, storageLocation: "test", cluster: source.baseURL)
        request.volumePathMap = try VolumePathMap(parsing: "/nodes/n1=\(temp.sub("node"))")
        let pipeline = BackupPipeline(
            collector: ResourceCollector(client: client, repository: repository), volumeConcurrency: width)
        let record = try await pipeline.run(request)
        #expect(record.phase == .completed, "\(record.errors)")
        #expect(record.volumes.count == Self.volumeCount)
        #expect(record.volumes.allSatisfy { $0.snapshot != nil && $0.files == 3 }, "\(record.volumes.first!)")
        #expect(pipeline.volumesInFlight.peak <= width, "\(pipeline.volumesInFlight.peak) volumes read at once")
        #expect(pipeline.volumesInFlight.peak == width, "the width is used, not just respected")

        let restorer = VolumeRestorer(
            repository: repository, pathMap: try VolumePathMap(parsing: "/nodes/n1=\(temp.sub("other"))"),
            volumeConcurrency: width)
        let restored = await restorer.restore(record.volumes, overwrite: false)
        #expect(restored.count == Self.volumeCount)
        #expect(restored.allSatisfy { $0.error == nil }, "\(restored.first { $0.error != nil }?.error ?? "")")
        #expect(restorer.volumesInFlight.peak <= width, "\(restorer.volumesInFlight.peak) volumes restored at once")
        let sample = try FileSystem.readFile(temp.sub("other/v77/f2"))
        #expect(sample == Array("volume 77 file 2\n".utf8))
        try await source.shutdown()
        try await target.shutdown()
    }
}
