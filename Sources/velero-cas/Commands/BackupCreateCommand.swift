import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import Operations

struct BackupCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Back up the selected resources of a cluster.",
        discussion: """
            With a velero-cas server in the cluster (see --local) this creates a Backup object and the server runs \
            it (--wait watches it to the end); otherwise the backup runs here to completion.
            """)

    @Argument(
        help:
            "The backup's name (lowercase letters, digits, '-', '.'); with --from-schedule, default <schedule>-<timestamp>."
    )
    var name: String?
    @OptionGroup var spec: BackupSpecOptions
    @Option(help: "Make the backup from this schedule's template (all other filters are ignored; needs the server).")
    var fromSchedule: String?
    @Option(help: "Where node volume paths are readable here: /node/path=/local/path,… (hostPath and local volumes).")
    var volumePathMap: String?
    @Option(help: "Concurrent resource collectors.") var parallel = 8
    @Option(help: "Persistent volumes whose data is read at once (each holds open files and read buffers).")
    var parallelVolumes = VolumeCollector.defaultVolumeConcurrency
    @Flag(help: "Wait until the backup is finished (in process it always is).") var wait = false
    @Option(name: .shortAndLong, help: "Print the backup (request) as json or yaml instead of making it.") var output:
        OutputFormat?
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 64") }
        try validateParallelVolumes(parallelVolumes)
        if output == .table { throw ValidationError("-o takes json or yaml for backup create") }
        if name == nil && fromSchedule == nil {
            throw ValidationError("backup create needs a NAME (or --from-schedule)")
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        if let name { try ResourceName.validate(name, what: "backup name") }
        try spec.check()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            if volumePathMap != nil {
                throw ValidationError(
                    "--volume-path-map applies to backups run in this process (--local); the server reads volumes itself"
                )
            }
            return try await ServerBackups.create(
                server, name: name, options: spec, storageLocation: storeOptions.storageLocation,
                fromSchedule: fromSchedule, wait: wait, output: output)
        }
        if fromSchedule != nil {
            throw mode.needsServer("--from-schedule")
        }
        try await runLocally(name: name!)
    }

    private func runLocally(name: String) async throws {
        let ttlSeconds = try spec.ttlSeconds
        let filter = try spec.filter()
        let pathMap = try VolumePathMap(parsing: volumePathMap ?? "")
        let snapshotLocations = spec.snapshotLocations
        if !snapshotLocations.isEmpty {
            let configured = try StorageLocations.load().snapshotLocations.map(\.name)
            for location in snapshotLocations where !configured.contains(location) {
                throw ValidationError(
                    "--volume-snapshot-locations: '\(location)' is not configured (see 'velero-cas snapshot-location get')"
                )
            }
        }
        let client = try await cluster.client()
        var request = BackupRecord(
            name: name, labels: try spec.backupLabels, annotations: try spec.backupAnnotations, filter: filter,
            snapshotVolumes: spec.snapshotVolumes, ttlSeconds: ttlSeconds,
            storageLocation: try storeOptions.locationName, cluster: client.configuration.server)
        request.volumePathMap = pathMap
        if !snapshotLocations.isEmpty { request.volumeSnapshotLocations = snapshotLocations }
        if let output {
            try output.print(request) {}
            return
        }
        // The backup's lock is taken while an existing store's key is read and derived.
        let repository = try await storeOptions.openForWriting(lockingAhead: "backup \(name)")
        let progress = CollectionProgress()
        let reporter = ProgressReporter(collection: progress)
        let record: BackupRecord
        do {
            record = try await BackupOperation(
                client: client, repository: repository, width: parallel, volumeConcurrency: parallelVolumes,
                progress: progress
            ).run(request, log: RunLog())
            reporter.stop()
        } catch {
            reporter.stop()
            throw error
        }
        guard record.phase.isRestorable else {
            throw ValidationError("backup \(name) \(record.phase.rawValue): \(record.errors.joined(separator: "; "))")
        }
        let summary = record.summary
        print(
            "backup \(name) \(record.phase.rawValue): \(record.itemsBackedUp) items, \(Format.bytes(summary?.bytes ?? 0)) of objects, \(Format.bytes(summary?.newStoredBytes ?? 0)) new in the store, \(Format.seconds(summary?.seconds ?? 0))"
        )
        for volume in record.volumes where volume.snapshot != nil {
            print(
                "volume \(volume.persistentVolume): \(volume.files) files, \(Format.bytes(volume.logicalBytes)), \(Format.bytes(volume.newStoredBytes)) new"
            )
        }
        for warning in record.warnings { print("warning: \(warning)") }
    }
}
