import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import SampleData
import SystemIO

/// The README's main job on the embedded default: a served demo cluster and a local directory store, driven through
/// a velero-cas server and Velero's objects (or, with `--local`, in this process).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Back up a served demo cluster (with volume data) into a local store, lose a namespace, restore it, verify every object and byte, and back up again incrementally.",
        discussion: """
            The demo cluster is served by the kube-sim executable, started as a child process (found beside \
            velero-cas, or at --kube-sim or VELERO_CAS_KUBE_SIM) and stopped at the end. By default the demo \
            installs the velero.io CRDs into the served cluster, starts velero-cas server against it (in this \
            process), and drives backup, schedule, restore and deletion through Backup, Schedule, Restore and \
            DeleteBackupRequest objects, as users of a cluster do. --local runs the same story in this process, \
            without the server.
            """
    )

    @Option(help: "Working directory for the volume data and the store (removed first).")
    var workdir: String = "/tmp/velero-cas-demo"
    @Option(help: "Megabytes of volume data in the demo's persistent volume.") var megabytes: Int = 128
    @Option(help: "Namespaces of generated workload beside the demo's own.") var namespaces: Int = 20
    @Flag(help: "Run backups and restores in this process instead of through a velero-cas server.") var local = false
    @Option(
        help:
            "The kube-sim executable that serves the demo cluster (default: VELERO_CAS_KUBE_SIM, else beside velero-cas)."
    )
    var kubeSim: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...65536).contains(megabytes) else { throw ValidationError("--megabytes must be between 1 and 65536") }
        guard (0...5000).contains(namespaces) else { throw ValidationError("--namespaces must be between 0 and 5000") }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let kubeSim = try KubeSimProcess.executable(flag: kubeSim, environment: ProcessInfo.processInfo.environment)
        let setup = try await DemoSetup.start(
            workdir: workdir, megabytes: megabytes, namespaces: namespaces, kubeSim: kubeSim)
        do {
            if local {
                try await DemoLocal(setup: setup).run()
            } else {
                try await DemoThroughServer(setup: setup).run()
            }
            await setup.sim.stop()
        } catch {
            await setup.sim.stop()
            throw error
        }
    }
}

/// What both demo stories start from: the volume data, the served cluster with its workload, and the results table.
struct DemoSetup {
    let workdir: String
    let volume: String
    let data: SampleData
    let sim: KubeSimProcess
    let client: KubeClient
    let shop: DemoWorkload
    var storePath: String { workdir + "/store" }

    static func start(workdir: String, megabytes: Int, namespaces: Int, kubeSim: String) async throws -> DemoSetup {
        let volume = workdir + "/node-1/shop-data"
        try FileSystem.removeTree(workdir)
        print("generating \(megabytes) MB of volume data in \(volume)")
        let data = SampleData(seed: 42)
        try await BlockingPool.shared.run { try data.generate(into: volume, bytes: megabytes << 20) }
        let sim = try await KubeSimProcess.start(
            executable: kubeSim,
            arguments: [
                "--generate-namespaces", "\(namespaces)", "--generate-objects", "50", "--no-generated-cluster-scoped",
            ], log: workdir + "/kube-sim.log")
        let client = KubeClient(configuration: ClusterConfiguration(server: sim.baseURL))
        let shop: DemoWorkload
        do {
            shop = try await DemoWorkload(client: client).create(volumePath: volume)
        } catch {
            await sim.stop()
            throw error
        }
        print(
            "serving a demo cluster at \(sim.baseURL) (kube-sim, pid \(sim.pid)): \(sim.generatedObjects ?? 0) generated objects and namespace 'shop' with a \(megabytes) MB hostPath volume"
        )
        return DemoSetup(workdir: workdir, volume: volume, data: data, sim: sim, client: client, shop: shop)
    }

    /// The passwords of the demo's store: VELERO_CAS_PASSWORD, else the key file generated with the store.
    var passwords: StorePasswords {
        StorePasswords(passwordFile: nil, environment: ProcessInfo.processInfo.environment)
    }

    static func table() -> Table {
        Table(header: ["STEP", "OBJECTS", "VOLUME DATA", "NEW IN STORE", "DEDUP", "TIME"])
    }

    /// A backup's row: objects, volume bytes, what was new in the store, the dedup ratio, and the time.
    static func row(_ step: String, _ record: BackupRecord) -> [String] {
        let volumeBytes = record.volumes.reduce(Int64(0)) { $0 + $1.logicalBytes }
        let newBytes =
            (record.summary?.newStoredBytes ?? 0) + record.volumes.reduce(Int64(0)) { $0 + $1.newStoredBytes }
        let seconds = max(record.summary?.seconds ?? 0, record.volumes.map(\.seconds).max() ?? 0)
        return [
            step, "\(record.itemsBackedUp)", Format.bytes(volumeBytes), Format.bytes(newBytes),
            Format.ratio(Double(volumeBytes + (record.summary?.bytes ?? 0)) / Double(max(newBytes, 1))),
            Format.seconds(seconds),
        ]
    }

    /// The lost namespace and volume are back as they were, or the demo fails saying what differs.
    func verifyRestored(before: [String: String], phase: String, table: Table) async throws {
        let after = try await shop.snapshot()
        let volume = volume
        let differences = try await BlockingPool.shared.run { try SampleData.compareTrees(volume + ".lost", volume) }
        guard phase == "Completed", after == before, differences.isEmpty else {
            print(table.render())
            let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
            throw ValidationError(
                "verification failed: phase \(phase), objects that differ: \(changed.prefix(3)) \(changed.first.map { "(before: \(before[$0] ?? "absent"); after: \(after[$0] ?? "absent"))" } ?? ""), volume differences: \(differences.prefix(3))"
            )
        }
    }

    /// The disaster: namespace 'shop' deleted, its volume data moved away. Returns the namespace as it was.
    func loseShop() async throws -> [String: String] {
        print("disaster: deleting namespace 'shop' and losing its volume data")
        let before = try await shop.snapshot()
        try await shop.deleteNamespace()
        try FileSystem.rename(volume, to: volume + ".lost")
        return before
    }

    func changeALittle() async throws {
        print("changing about 1% of the volume data and a few objects")
        let (data, volume) = (data, volume)
        try await BlockingPool.shared.run { try data.mutate(directory: volume, fraction: 0.01) }
        try await shop.touch()
    }
}
