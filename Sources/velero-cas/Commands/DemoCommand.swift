import ArgumentParser
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import KubeClient
import KubeSim
import Restorer
import SampleData
import SystemIO

/// The README's main job on the embedded default: a served demo cluster and a local directory store.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Back up a served demo cluster (with volume data) into a local store, lose a namespace, restore it, verify every object and byte, and back up again incrementally."
    )

    @Option(help: "Working directory for the volume data and the store (removed first).")
    var workdir: String = "/tmp/velero-cas-demo"
    @Option(help: "Megabytes of volume data in the demo's persistent volume.") var megabytes: Int = 128
    @Option(help: "Namespaces of generated workload beside the demo's own.") var namespaces: Int = 20
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...65536).contains(megabytes) else { throw ValidationError("--megabytes must be between 1 and 65536") }
        guard (0...5000).contains(namespaces) else { throw ValidationError("--namespaces must be between 0 and 5000") }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let volume = workdir + "/node-1/shop-data"
        try FileSystem.removeTree(workdir)
        print("generating \(megabytes) MB of volume data in \(volume)")
        let data = SampleData(seed: 42)
        try await BlockingPool.shared.run { try data.generate(into: volume, bytes: megabytes << 20) }

        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                synthetic: SyntheticCluster.Options(
                    namespaces: namespaces, objectsPerNamespace: 50, clusterScoped: false)))
        defer { Task { try? await server.shutdown() } }
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        let shop = try await DemoWorkload(client: client).create(volumePath: volume)
        print(
            "serving a demo cluster at \(server.baseURL): \(server.objectCount()) objects, namespace 'shop' with a \(megabytes) MB hostPath volume"
        )

        // Encrypted, as every new store is; the generated password goes to the key file the CLI reports.
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: workdir + "/store", create: true),
            config: RepositoryConfig(encryption: .aes256gcm),
            passwords: StorePasswords(passwordFile: nil, environment: ProcessInfo.processInfo.environment))
        let pipeline = BackupPipeline(collector: ResourceCollector(client: client, repository: repository))
        var table = Table(header: ["STEP", "OBJECTS", "VOLUME DATA", "NEW IN STORE", "DEDUP", "TIME"])
        func backup(_ name: String) async throws -> BackupRecord {
            let record = try await pipeline.run(
                BackupRecord(
                    name: name, filter: ResourceFilter(), ttlSeconds: 720 * 3600, storageLocation: workdir + "/store",
                    cluster: server.baseURL))
            guard record.phase == .completed else {
                throw ValidationError("backup \(name) \(record.phase.rawValue): \(record.errors)")
            }
            let volumeBytes = record.volumes.reduce(Int64(0)) { $0 + $1.logicalBytes }
            let newBytes =
                (record.summary?.newStoredBytes ?? 0) + record.volumes.reduce(Int64(0)) { $0 + $1.newStoredBytes }
            let seconds = max(record.summary?.seconds ?? 0, record.volumes.map(\.seconds).max() ?? 0)
            table.rows.append([
                "backup \(name)", "\(record.itemsBackedUp)", Format.bytes(volumeBytes), Format.bytes(newBytes),
                Format.ratio(Double(volumeBytes + (record.summary?.bytes ?? 0)) / Double(max(newBytes, 1))),
                Format.seconds(seconds),
            ])
            return record
        }
        let first = try await backup("demo-1")

        print("disaster: deleting namespace 'shop' and losing its volume data")
        let before = try await shop.snapshot()
        try await shop.deleteNamespace()
        try FileSystem.rename(volume, to: volume + ".lost")

        let manifest = try await ResourceReader(repository: repository).manifest(named: "demo-1")
        var options = RestoreOptions()
        options.includeNamespaces = ["shop"]
        let restorePipeline = RestorePipeline(
            restorer: ResourceRestorer(client: client, reader: ResourceReader(repository: repository)),
            volumes: VolumeRestorer(repository: repository))
        let (restored, volumes) = try await restorePipeline.run(
            first, manifest: manifest, options: options, restoreVolumes: true)
        table.rows.append([
            "restore shop", "\(restored.count(.created))", Format.bytes(volumes.reduce(0) { $0 + $1.bytes }), "-", "-",
            Format.seconds(max(restored.seconds, volumes.map(\.seconds).max() ?? 0)),
        ])
        let after = try await shop.snapshot()
        let differences = try await BlockingPool.shared.run { try SampleData.compareTrees(volume + ".lost", volume) }
        guard restored.phase == .completed, after == before, differences.isEmpty else {
            print(table.render())
            throw ValidationError(
                "verification failed: phase \(restored.phase.rawValue), objects equal: \(after == before), volume differences: \(differences.prefix(3))"
            )
        }

        print("changing about 1% of the volume data and a few objects")
        try await BlockingPool.shared.run { try data.mutate(directory: volume, fraction: 0.01) }
        try await shop.touch()
        _ = try await backup("demo-2")

        // Delete the first backup: only the chunks demo-2 does not share are freed; then check the whole store.
        let collector = GarbageCollector(repository: repository)
        let collected = try await collector.run(delete: ["demo-1"])
        table.rows.append([
            "delete demo-1", "-", "-", "-" + Format.bytes(collected.deletedBytes), "-", "-",
        ])
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        guard report.isClean, try await collector.countMismatches().isEmpty else {
            print(table.render())
            throw ValidationError("the store does not verify after deleting demo-1: \(report.damage.prefix(3))")
        }
        print(table.render())
        print("deleted demo-1: \(collected.deletedChunks) chunks no other backup needed; verify --read-data is clean")
        print(
            "verified: all \(before.count) objects of 'shop' are back as they were and the volume is byte-identical (store: \(workdir)/store)"
        )
    }
}
