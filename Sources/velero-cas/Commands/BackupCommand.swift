import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import Operations
import VeleroAPI

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up cluster resources into the store.",
        subcommands: [
            BackupCreateCommand.self, BackupGetCommand.self, BackupDescribeCommand.self, BackupLogsCommand.self,
            BackupDeleteCommand.self, BackupDownloadCommand.self,
        ])
}

struct BackupGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List backups.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Show each backup's labels.") var showLabels = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            let backups = try await server.select(selection, as: Backup.self)
            guard output == .table else { return try ObjectOutput.print(backups, format: output, single: false) }
            return print(ObjectTables.backups(backups, showLabels: showLabels).render())
        }
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await BackupPipeline.showingAbandoned(
                try await BackupRecord.listSkippingDamaged(repository), repository: repository),
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
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            return try await ObjectOutput.describe(
                try await server.select(selection, as: Backup.self), selection: selection, format: output
            ) { backup in
                ObjectDescriptions.backup(backup)
                if details { await ServerDetails.backup(server, backup.name) }
            }
        }
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await BackupPipeline.showingAbandoned(
                try await BackupRecord.listSkippingDamaged(repository), repository: repository),
            kind: "backup", location: repository.store.location, name: \.name, labels: \.labels)
        try await output.describe(records, single: selection.names.count == 1) { record in
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
        HookDescriptions.print(record.hooks, details: details)
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
        if let session = try await server.session(store: storeOptions.store) {
            let log = try await session.fetch(.backupLog, name)
            return print(String(decoding: log, as: UTF8.self), terminator: "")
        }
        let repository = try await storeOptions.openExisting()
        guard try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) != nil else {
            throw ValidationError("backup '\(name)' not found in \(repository.store.location)")
        }
        guard let log = try await RunLogStore.read(key: BackupRecord.logKey(name), repository: repository) else {
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
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws { try selection.validateDeletion(all: all, kind: "backup") }

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            return try await ServerBackups.delete(server, selection: selection, confirm: confirm)
        }
        let repository = try await storeOptions.openExisting()
        let names = try selection.select(
            try await BackupRecord.listSkippingDamaged(repository), kind: "backup", location: repository.store.location,
            name: \.name, labels: \.labels
        ).map(\.name).sorted()
        guard try !selection.namesToDelete(names, kind: "backup", confirm: confirm).isEmpty else { return }
        // The same path as expiry; it waits for (and so never deletes) a backup still in progress.
        let result = try await GarbageCollector(repository: repository).run(delete: names)
        for name in names { print("backup \(name) deleted") }
        GCCommand.printSummary(result)
    }
}
