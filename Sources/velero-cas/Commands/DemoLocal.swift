import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import Restorer
import SystemIO

/// `demo --local`: the story run in this process with the pipelines, as `backup create --local` runs them.
struct DemoLocal {
    let setup: DemoSetup

    func run() async throws {
        // Encrypted, as every new store is; the generated password goes to the key file the CLI reports.
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: setup.storePath, create: true),
            config: RepositoryConfig(encryption: .aes256gcm), passwords: setup.passwords,
            directories: StoreLayout.withRecords)
        let pipeline = BackupPipeline(collector: ResourceCollector(client: setup.client, repository: repository))
        var table = DemoSetup.table()
        func backup(_ name: String) async throws -> BackupRecord {
            let record = try await pipeline.run(
                BackupRecord(
                    name: name, filter: ResourceFilter(), ttlSeconds: 720 * 3600, storageLocation: setup.storePath,
                    cluster: setup.sim.baseURL))
            guard record.phase == .completed else {
                throw ValidationError("backup \(name) \(record.phase.rawValue): \(record.errors)")
            }
            table.rows.append(DemoSetup.row("backup \(name)", record))
            return record
        }
        let first = try await backup("demo-1")
        let before = try await setup.loseShop()

        let manifest = try await ResourceReader(repository: repository).manifest(named: "demo-1")
        var options = RestoreOptions()
        options.includeNamespaces = ["shop"]
        let restorePipeline = RestorePipeline(
            restorer: ResourceRestorer(client: setup.client, reader: ResourceReader(repository: repository)),
            volumes: VolumeRestorer(repository: repository))
        let (restored, volumes) = try await restorePipeline.run(
            first, manifest: manifest, options: options, restoreVolumes: true)
        table.rows.append([
            "restore shop", "\(restored.count(.created))", Format.bytes(volumes.reduce(0) { $0 + $1.bytes }), "-", "-",
            Format.seconds(max(restored.seconds, volumes.map(\.seconds).max() ?? 0)),
        ])
        try await setup.verifyRestored(before: before, phase: restored.phase.rawValue, table: table)

        try await setup.changeALittle()
        _ = try await backup("demo-2")

        // Delete the first backup: only the chunks demo-2 does not share are freed; then check the whole store.
        let collector = GarbageCollector(repository: repository)
        let collected = try await collector.run(delete: ["demo-1"])
        table.rows.append([
            "delete demo-1", "-", "-", "-" + Format.bytes(collected.deletedBytes), "-", "-",
        ])
        try await Self.verifyStore(repository, table: table)
        print(table.render())
        print("deleted demo-1: \(collected.deletedChunks) chunks no other backup needed; verify --read-data is clean")
        print(
            "verified: all \(before.count) objects of 'shop' are back as they were and the volume is byte-identical (store: \(setup.storePath))"
        )
    }

    /// Every chunk read and checked, and the reference counts match the manifests.
    static func verifyStore(_ repository: Repository, table: Table) async throws {
        let report = try await StoreVerifier(repository: repository).verify(readData: true)
        guard report.isClean, try await GarbageCollector(repository: repository).countMismatches().isEmpty else {
            print(table.render())
            throw ValidationError("the store does not verify after deleting demo-1: \(report.damage.prefix(3))")
        }
    }
}
