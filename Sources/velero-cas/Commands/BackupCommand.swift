import ArgumentParser
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import Operations

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up cluster resources into the store.",
        subcommands: [
            BackupCreateCommand.self, BackupGetCommand.self, BackupDescribeCommand.self, BackupLogsCommand.self,
            BackupDeleteCommand.self, BackupDownloadCommand.self,
        ])
}

struct BackupCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Back up the selected resources of a cluster (runs to completion).")

    @Argument(help: "The backup's name (lowercase letters, digits, '-', '.').") var name: String
    @Option(help: "Namespaces to include, comma-separated or repeated ('*' or globs like prod-*); default all.")
    var includeNamespaces: [String] = []
    @Option(help: "Namespaces to exclude, comma-separated or repeated.") var excludeNamespaces: [String] = []
    @Option(help: "Resources to include (names, short names, kinds, resource.group), comma-separated or repeated.")
    var includeResources: [String] = []
    @Option(help: "Resources to exclude, comma-separated or repeated.") var excludeResources: [String] = []
    @Option(help: "Cluster-scoped resources to include (new-style filter).")
    var includeClusterScopedResources: [String] = []
    @Option(help: "Cluster-scoped resources to exclude (new-style filter).")
    var excludeClusterScopedResources: [String] = []
    @Option(help: "Namespace-scoped resources to include (new-style filter).")
    var includeNamespaceScopedResources: [String] = []
    @Option(help: "Namespace-scoped resources to exclude (new-style filter).")
    var excludeNamespaceScopedResources: [String] = []
    @Option(help: "Include cluster-scoped resources: true or false (default: only when all namespaces are backed up).")
    var includeClusterResources: Bool?
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Only objects matching this label selector.")
    var selector: String?
    @Option(help: "Objects matching any of these selectors, separated by ' or '.") var orSelector: String?
    @Option(help: "Labels for the backup itself, k=v,k2=v2.") var labels: String?
    @Option(help: "Annotations for the backup itself, k=v,k2=v2.") var annotations: String?
    @Option(help: "How long to keep the backup (Go duration, e.g. 720h; 0 keeps it forever).") var ttl = "720h"
    @Option(help: "Back up the data of reachable persistent volumes: true or false.") var snapshotVolumes = true
    @Option(help: "Volume snapshot locations to record, comma-separated (see 'velero-cas snapshot-location').")
    var volumeSnapshotLocations: String?
    @Option(help: "Where node volume paths are readable here: /node/path=/local/path,… (hostPath and local volumes).")
    var volumePathMap: String?
    @Option(help: "Concurrent resource collectors.") var parallel = 8
    @Option(help: "Persistent volumes whose data is read at once (each holds open files and read buffers).")
    var parallelVolumes = VolumeCollector.defaultVolumeConcurrency
    @Flag(help: "Wait for the backup to finish (it always does; accepted for Velero compatibility).") var wait = false
    @Option(name: .shortAndLong, help: "Print the backup request as json or yaml instead of running it.") var output:
        OutputFormat?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 64") }
        try validateParallelVolumes(parallelVolumes)
        if output == .table { throw ValidationError("-o takes json or yaml for backup create") }
    }

    func run() async throws {
        try global.bootstrapLogging()
        try ResourceName.validate(name, what: "backup name")
        let ttlSeconds = try GoDuration.parse(ttl)
        var filter = ResourceFilter()
        filter.includeNamespaces = commaList(includeNamespaces)
        filter.excludeNamespaces = commaList(excludeNamespaces)
        filter.includeResources = commaList(includeResources)
        filter.excludeResources = commaList(excludeResources)
        filter.includeClusterScopedResources = commaList(includeClusterScopedResources)
        filter.excludeClusterScopedResources = commaList(excludeClusterScopedResources)
        filter.includeNamespaceScopedResources = commaList(includeNamespaceScopedResources)
        filter.excludeNamespaceScopedResources = commaList(excludeNamespaceScopedResources)
        filter.includeClusterResources = includeClusterResources
        filter.labelSelector = selector
        filter.orLabelSelectors = orSelector.map { $0.components(separatedBy: " or ") } ?? []
        try filter.validate()
        let backupLabels = try keyValues(labels, flag: "--labels")
        let backupAnnotations = try keyValues(annotations, flag: "--annotations")
        let pathMap = try VolumePathMap(parsing: volumePathMap ?? "")
        let snapshotLocations = commaList(volumeSnapshotLocations)
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
            name: name, labels: backupLabels, annotations: backupAnnotations, filter: filter,
            snapshotVolumes: snapshotVolumes, ttlSeconds: ttlSeconds, storageLocation: try storeOptions.locationName,
            cluster: client.configuration.server)
        request.volumePathMap = pathMap
        if !snapshotLocations.isEmpty { request.volumeSnapshotLocations = snapshotLocations }
        if let output {
            try output.print(request) {}
            return
        }
        let repository = try await storeOptions.openForWriting()
        let progress = CollectionProgress()
        let reporter = ProgressReporter(collection: progress)
        let record: BackupRecord
        do {
            record = try await BackupOperation(
                client: client, repository: repository, width: parallel, volumeConcurrency: parallelVolumes,
                progress: progress
            ).run(request)
            reporter.stop()
            try await repository.store.put(BackupRecord.logKey(name), Array(OperationLog.shared.text.utf8))
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

struct BackupGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List backups.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Show each backup's labels.") var showLabels = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await BackupPipeline.showingAbandoned(
                try await BackupPipeline.list(repository), repository: repository),
            kind: "backup", location: repository.store.location, name: \.name, labels: \.labels)
        try output.print(records) {
            var table = Table(
                header: ["NAME", "STATUS", "ERRORS", "WARNINGS", "CREATED", "EXPIRES", "STORAGE LOCATION", "SELECTOR"]
                    + (showLabels ? ["LABELS"] : []))
            for record in records {
                table.rows.append(
                    [
                        record.name, record.phase.rawValue, "\(record.errors.count)", "\(record.warnings.count)",
                        Format.date(record.startTimestamp), record.expiration.map(Format.date) ?? "never",
                        record.storageLocation,
                        record.filter.labelSelector
                            ?? (record.filter.orLabelSelectors.isEmpty
                                ? "<none>" : record.filter.orLabelSelectors.joined(separator: " or ")),
                    ] + (showLabels ? [Format.labels(record.labels)] : []))
            }
            print(table.render())
        }
    }
}

struct BackupDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show one backup in detail.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "List the objects of each resource type.") var details = false
    @Option(name: .shortAndLong, help: "Output: table (for people), json or yaml.") var output: OutputFormat = .table
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await BackupPipeline.showingAbandoned(
                try await BackupPipeline.list(repository), repository: repository),
            kind: "backup", location: repository.store.location, name: \.name, labels: \.labels)
        guard output == .table else {
            // One named backup prints as an object, anything else as a list.
            if selection.names.count == 1 { return try output.print(records[0]) {} }
            return try output.print(records) {}
        }
        for (index, record) in records.enumerated() {
            if index > 0 { print("") }
            try await describe(record, repository: repository)
        }
    }

    private func describe(_ record: BackupRecord, repository: Repository) async throws {
        print("Name:         \(record.name)")
        if !record.labels.isEmpty { print("Labels:       \(Format.labels(record.labels))") }
        if !record.annotations.isEmpty { print("Annotations:  \(Format.labels(record.annotations))") }
        print("Phase:        \(record.phase.rawValue)")
        print("Cluster:      \(record.cluster)")
        print("Started:      \(Format.date(record.startTimestamp))")
        print("Completed:    \(record.completionTimestamp.map(Format.date) ?? "-")")
        print("Expires:      \(record.expiration.map(Format.date) ?? "never")")
        print(
            "Namespaces:   included \(record.filter.includeNamespaces.isEmpty ? "*" : record.filter.includeNamespaces.joined(separator: ",")), excluded \(record.filter.excludeNamespaces.isEmpty ? "<none>" : record.filter.excludeNamespaces.joined(separator: ","))"
        )
        print("Items:        \(record.itemsBackedUp)")
        if let summary = record.summary {
            print(
                "Dedup:        \(Format.bytes(summary.bytes)) of objects, \(Format.bytes(summary.newStoredBytes)) new in the store (\(summary.newChunks) new chunks, \(summary.reusedChunks) reused)"
            )
        }
        for volume in record.volumes {
            let state =
                volume.snapshot != nil
                ? "\(volume.files) files, \(Format.bytes(volume.logicalBytes)) (\(Format.bytes(volume.newStoredBytes)) new)"
                : "skipped: \(volume.skipped ?? "")"
            print("Volume:       \(volume.persistentVolume) \(volume.path): \(state)")
        }
        for error in record.errors { print("Error:        \(error)") }
        for warning in record.warnings { print("Warning:      \(warning)") }
        guard let manifestName = record.resourceManifest else { return }
        let manifest = try await ResourceReader(repository: repository).manifest(named: manifestName)
        print("Resources:")
        for stream in manifest.streams where !stream.objects.isEmpty {
            print("  \(stream.resource.qualifiedName): \(stream.objects.count)")
            if details {
                for object in stream.objects { print("    - \(object.namespace.map { "\($0)/" } ?? "")\(object.name)") }
            }
        }
    }
}

struct BackupLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show the log of a backup.")

    @Argument(help: "The backup.") var name: String
    @OptionGroup var server: ThroughServerOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if server.throughServer {
            let log = try await server.fetch(.backupLog, name)
            return print(String(decoding: log, as: UTF8.self), terminator: "")
        }
        let repository = try await storeOptions.openExisting()
        guard try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) != nil else {
            throw ValidationError("backup '\(name)' not found in \(repository.store.location)")
        }
        guard let log = try? await repository.store.get(BackupRecord.logKey(name)) else {
            throw ValidationError("backup '\(name)' has no log (it may still be running, or was made by another tool)")
        }
        print(String(decoding: log, as: UTF8.self), terminator: "")
    }
}

struct BackupDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete backups: their records, their restores, and every chunk no other backup references.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Delete every backup.") var all = false
    @Flag(help: "Confirm the deletion.") var confirm = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws { try selection.validateDeletion(all: all, kind: "backup") }

    func run() async throws {
        try global.bootstrapLogging()
        let repository = try await storeOptions.openExisting()
        let names = try selection.select(
            try await BackupPipeline.list(repository), kind: "backup", location: repository.store.location,
            name: \.name, labels: \.labels
        ).map(\.name).sorted()
        guard try !selection.namesToDelete(names, kind: "backup", confirm: confirm).isEmpty else { return }
        // The same path as expiry; it waits for (and so never deletes) a backup still in progress.
        let result = try await GarbageCollector(repository: repository).run(delete: names)
        for name in names { print("backup \(name) deleted") }
        GCCommand.printSummary(result)
    }
}
