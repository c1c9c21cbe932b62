import ArgumentParser
import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Operations
import Restorer
import VeleroAPI

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup into a cluster (the same one, or another: migration).",
        subcommands: [
            RestoreCreateCommand.self, RestoreGetCommand.self, RestoreDescribeCommand.self, RestoreLogsCommand.self,
            RestoreDeleteCommand.self,
        ])
}

struct RestoreCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Restore a backup (runs to completion).")

    @Argument(help: "The restore's name; default <backup or schedule>-<timestamp>.") var name: String?
    @Option(help: "The backup to restore.") var fromBackup: String?
    @Option(help: "Restore the newest completed backup of this schedule (needs the server).") var fromSchedule: String?
    @Option(
        help:
            "Namespaces to include, comma-separated or repeated, names or globs ('*', 'prod-*', 'team-[ab]'); default all."
    )
    var includeNamespaces: [String] = []
    @Option(help: "Namespaces to exclude, comma-separated or repeated, names or globs.")
    var excludeNamespaces: [String] = []
    @Option(help: "Resources to include, comma-separated or repeated.") var includeResources: [String] = []
    @Option(help: "Resources to exclude, comma-separated or repeated.") var excludeResources: [String] = []
    @Option(help: "Restore namespaces under other names: src1:dst1,src2:dst2.") var namespaceMappings: String?
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Only objects matching this label selector.")
    var selector: String?
    @Option(help: "Objects matching any of these selectors, separated by ' or '.") var orSelector: String?
    @Option(help: "What to do with objects that already exist: none (leave them) or update.")
    var existingResourcePolicy = "none"
    @Option(help: "Restore volume data: true or false.") var restoreVolumes = true
    @Flag(name: .customLong("preserve-nodeports"), help: "Keep Services' auto-assigned nodePorts.")
    var preserveNodePorts = false
    @Option(help: "Include cluster-scoped resources: true or false (default: when all namespaces are restored).")
    var includeClusterResources: Bool?
    @Option(help: "Resources whose status is restored too, comma-separated or repeated ('*' for all).")
    var statusIncludeResources: [String] = []
    @Option(help: "Resources whose status is not restored, comma-separated (wins over --status-include-resources).")
    var statusExcludeResources: [String] = []
    @Option(help: "Labels for the restore itself, k=v,k2=v2.") var labels: String?
    @Option(help: "Annotations for the restore itself, k=v,k2=v2.") var annotations: String?
    @Option(
        name: .customLong("resource-modifier-configmap"),
        help: "A ConfigMap in the Velero namespace of the target cluster holding resource modifier rules.")
    var resourceModifierConfigMap: String?
    @Option(help: "Where node volume paths are written here: /node/path=/local/path,…") var volumePathMap: String?
    @Option(help: "Objects applied at once within a priority tier.") var parallel = 16
    @Option(help: "Persistent volumes whose data is restored at once (each holds open files and buffers).")
    var parallelVolumes = VolumeCollector.defaultVolumeConcurrency
    @Flag(help: "Wait until the restore is finished (in process it always is).") var wait = false
    @Option(name: .shortAndLong, help: "Print the Restore object as json or yaml instead of creating it (server).")
    var output: OutputFormat?
    /// `-n/--namespace` is also where the resource modifier and plugin ConfigMaps live in the target cluster.
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (fromBackup == nil) != (fromSchedule == nil) else {
            throw ValidationError("give --from-backup or --from-schedule (exactly one)")
        }
        if output == .table { throw ValidationError("-o takes json or yaml for restore create") }
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256") }
        try validateParallelVolumes(parallelVolumes)
        guard RestoreOptions.ExistingResourcePolicy(rawValue: existingResourcePolicy) != nil else {
            throw ValidationError("--existing-resource-policy must be none or update, not '\(existingResourcePolicy)'")
        }
    }

    func run() async throws {
        try global.bootstrapLogging()
        let started = Date()
        let restoreName = name ?? "\(fromBackup ?? fromSchedule ?? "")-\(BackupDirCommand.timestamp())"
        try ResourceName.validate(restoreName, what: "restore name")
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            if volumePathMap != nil {
                throw ValidationError(
                    "--volume-path-map applies to restores run in this process (--local); the server writes volumes itself"
                )
            }
            return try await ServerRestores.create(server, name: restoreName, command: self)
        }
        guard let fromBackup else {
            throw mode.needsServer("--from-schedule")
        }
        if output != nil {
            throw ValidationError("-o json|yaml prints the Restore object, which only the server takes")
        }
        let restoreLabels = try Self.labels(labels, flag: "--labels")
        let restoreAnnotations = try keyValues(annotations, flag: "--annotations")
        var options = RestoreOptions()
        options.includeNamespaces = commaList(includeNamespaces)
        options.excludeNamespaces = commaList(excludeNamespaces)
        options.includeResources = commaList(includeResources)
        options.excludeResources = commaList(excludeResources)
        options.namespaceMappings = try RestoreOptions.parseNamespaceMappings(namespaceMappings ?? "")
        options.labelSelector = selector
        options.orLabelSelectors = orSelector.map { $0.components(separatedBy: " or ") } ?? []
        options.existingResourcePolicy = RestoreOptions.ExistingResourcePolicy(rawValue: existingResourcePolicy)!
        options.preserveNodePorts = preserveNodePorts
        options.includeClusterResources = includeClusterResources
        options.statusIncludeResources = commaList(statusIncludeResources)
        options.statusExcludeResources = commaList(statusExcludeResources)
        options.resourceModifierConfigMap = resourceModifierConfigMap
        options.veleroNamespace = mode.veleroNamespace
        try options.validate()

        // The restore's lock is taken while the store's key is read and derived.
        let repository = try await storeOptions.openExisting(lockingAhead: "restore \(restoreName)")
        let operation = RestoreOperation(
            client: { [cluster] in try await cluster.client() }, repository: repository, width: parallel,
            volumePathMap: try VolumePathMap(parsing: volumePathMap ?? ""), volumeConcurrency: parallelVolumes)
        let record: RestoreRecord
        do {
            record = try await operation.run(
                RestoreOperation.Request(
                    name: restoreName, backup: fromBackup, options: options, restoreVolumes: restoreVolumes,
                    labels: restoreLabels, annotations: restoreAnnotations), started: started,
                log: RunLog())
        } catch let error as RestoreValidationError {
            throw ValidationError(error.description)
        }
        print(
            "restore \(restoreName) \(record.phase.rawValue): \(record.created) created, \(record.updated) updated, \(record.skipped) skipped, \(record.failed) failed in \(Format.seconds(record.completionTimestamp.timeIntervalSince(record.startTimestamp)))"
        )
        for volume in record.volumes where volume.error == nil {
            print("volume \(volume.persistentVolume): \(Format.bytes(volume.bytes)) restored into \(volume.path)")
        }
        for warning in record.warnings.prefix(20) { print("warning: \(warning)") }
        for error in record.errors.prefix(20) { print("error: \(error)") }
        if record.phase != .completed { throw ExitCode(1) }
    }

    /// `--labels`: key=value pairs whose keys and values are valid label keys and values.
    static func labels(_ text: String?, flag: String) throws -> [String: String] {
        let pairs = try keyValues(text, flag: flag)
        for (key, value) in pairs.sorted(by: { $0.key < $1.key }) {
            do { _ = try LabelSelector(parsing: "\(key)=\(value)") } catch {
                throw ValidationError("\(flag) '\(key)=\(value)' is not a valid label")
            }
        }
        return pairs
    }
}

struct RestoreGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List restores.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Show each restore's labels.") var showLabels = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            let restores = try await server.select(selection, as: Restore.self)
            guard output == .table else { return try ObjectOutput.print(restores, format: output, single: false) }
            return print(ObjectTables.restores(restores, showLabels: showLabels).render())
        }
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await RestoreRecord.list(repository), kind: "restore", location: repository.store.location,
            name: \.name, labels: { $0.labels ?? [:] })
        try output.print(records) {
            var table = Table(
                header: ["NAME", "BACKUP", "STATUS", "CREATED", "UPDATED", "SKIPPED", "FAILED", "STARTED"]
                    + (showLabels ? ["LABELS"] : []))
            for record in records {
                table.rows.append(
                    [
                        record.name, record.backup, record.phase.rawValue, "\(record.created)", "\(record.updated)",
                        "\(record.skipped)", "\(record.failed)", Format.date(record.startTimestamp),
                    ] + (showLabels ? [Format.labels(record.labels ?? [:])] : []))
            }
            print(table.render())
        }
    }
}

struct RestoreDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show restores in detail.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "List every item's result.") var details = false
    @Option(name: .shortAndLong, help: "Output: table (for people), json or yaml.") var output: OutputFormat = .table
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            return try await ObjectOutput.describe(
                try await server.select(selection, as: Restore.self), selection: selection, format: output
            ) { restore in
                ObjectDescriptions.restore(restore)
                if details { await ServerDetails.restore(server, restore.name) }
            }
        }
        let repository = try await storeOptions.openExisting()
        let records = try selection.select(
            try await RestoreRecord.list(repository), kind: "restore", location: repository.store.location,
            name: \.name, labels: { $0.labels ?? [:] })
        try await output.describe(records, single: selection.names.count == 1) { record in
            describe(record)
        }
    }

    private func describe(_ record: RestoreRecord) {
        print("Name:         \(record.name)")
        if let labels = record.labels, !labels.isEmpty { print("Labels:       \(Format.labels(labels))") }
        if let annotations = record.annotations, !annotations.isEmpty {
            print("Annotations:  \(Format.labels(annotations))")
        }
        print("Backup:       \(record.backup)")
        print("Phase:        \(record.phase.rawValue)")
        print("Started:      \(Format.date(record.startTimestamp))")
        print("Completed:    \(Format.date(record.completionTimestamp))")
        print(
            "Items:        \(record.created) created, \(record.updated) updated, \(record.skipped) skipped, \(record.failed) failed"
        )
        if !record.options.namespaceMappings.isEmpty {
            print(
                "Mappings:     \(record.options.namespaceMappings.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))"
            )
        }
        for volume in record.volumes {
            let outcome = volume.error ?? Format.bytes(volume.bytes)
            if let pod = volume.podVolume {
                let node = pod.node.isEmpty ? "" : " (node \(pod.node))"
                print("Pod volume:   \(pod.display)\(node): \(outcome)")
            } else {
                print("Volume:       \(volume.persistentVolume) → \(volume.path): \(outcome)")
            }
        }
        for warning in record.warnings { print("Warning:      \(warning)") }
        HookDescriptions.print(record.hooks, details: details)
        for error in record.errors { print("Error:        \(error)") }
        if details {
            for item in record.items {
                print(
                    "  \(item.outcome.rawValue): \(item.resource) \(item.namespace.map { "\($0)/" } ?? "")\(item.name)\(item.message.map { " (\($0))" } ?? "")"
                )
            }
        }
    }
}

struct RestoreDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete restore records and their logs (what they restored stays in the cluster, as with Velero).")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Delete every restore.") var all = false
    @Flag(help: "Confirm the deletion.") var confirm = false
    @OptionGroup var mode: ModeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws { try selection.validateDeletion(all: all, kind: "restore") }

    func run() async throws {
        try global.bootstrapLogging()
        if let server = try await mode.server(cluster: cluster, store: storeOptions.store) {
            return try await ServerRestores.delete(server, selection: selection, confirm: confirm)
        }
        let repository = try await storeOptions.openExisting()
        let names = try selection.select(
            try await RestoreRecord.list(repository), kind: "restore", location: repository.store.location,
            name: \.name, labels: { $0.labels ?? [:] }
        ).map(\.name).sorted()
        guard try !selection.namesToDelete(names, kind: "restore", confirm: confirm).isEmpty else { return }
        // Under a shared lock, so garbage collection (which deletes the restores of deleted backups) is not
        // running at the same time. The record goes first: a restore is gone as soon as its record is.
        try await StoreLock.withLock(.shared, repository: repository, operation: "restore delete") {
            for name in names {
                try await StoreLock.ensureHeld()
                try await repository.store.delete(RestoreRecord.key(name))
                try await repository.store.delete(RestoreRecord.logKey(name))
            }
            try await repository.store.sync()
        }
        for name in names { print("restore \(name) deleted") }
    }
}

struct RestoreLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show the log of a restore.")

    @Argument(help: "The restore.") var name: String
    @OptionGroup var server: ThroughServerOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try global.bootstrapLogging()
        if let session = try await server.session(store: storeOptions.store) {
            let log = try await session.fetch(.restoreLog, name)
            return print(String(decoding: log, as: UTF8.self), terminator: "")
        }
        let repository = try await storeOptions.openExisting()
        guard let log = try await RunLogStore.read(key: RestoreRecord.logKey(name), repository: repository) else {
            throw ValidationError("restore '\(name)' not found in \(repository.store.location)")
        }
        print(String(decoding: log, as: UTF8.self), terminator: "")
    }
}
