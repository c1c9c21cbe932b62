import ArgumentParser
import ChunkStore
import Foundation
import KubeClient
import Logging
import ServiceLifecycle
import SystemIO
import VeleroAPI
import VeleroServer

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract:
            "Run the controllers for Velero's objects (Backup, Restore, Schedule, DeleteBackupRequest, DownloadRequest, …) in a namespace.",
        discussion: """
            Backups, restores and schedules created as velero.io/v1 objects (kubectl apply, GitOps) are validated, run into the \
            store their BackupStorageLocation names (provider aws or local; without such an object, the locations \
            configured for this CLI), and their status written back. Expired backups and DeleteBackupRequests are \
            deleted through the garbage collector. Inside a pod the in-cluster configuration is used. SIGTERM or \
            SIGINT stop taking work and let running backups and restores finish.
            """)

    @Option(name: .shortAndLong, help: "The namespace of the Velero objects.") var namespace = "velero"
    @Option(help: "Backups (and restores) run at once.") var concurrentBackups = 1
    @Option(help: "How often expired backups are deleted (Go duration).") var garbageCollectionFrequency = "1h"
    @Option(help: "The TTL of backups that name none (Go duration).") var defaultBackupTTL = "720h"
    @Option(help: "How often backups in the storage locations are synced into the cluster (Go duration).")
    var backupSyncPeriod = "1m"
    @Option(help: "How often each storage location's store is checked (Go duration).")
    var storeValidationFrequency = "1m"
    @Flag(help: "Create the velero.io CustomResourceDefinitions first when they are missing.") var installCrds = false
    @Option(
        help: ArgumentHelp(
            "Back up every pod volume through the node agents unless a Backup says otherwise (opt-out).",
            valueName: "bool"))
    var defaultVolumesToFsBackup = false
    @Option(help: "How long a backup or restore waits for the node agents' pod volume work (Go duration).")
    var fsBackupTimeout = "4h"
    @Flag(
        help:
            "Back up hostPath and local persistent volumes whose node affinity names one node through that node's agent."
    )
    var nodeAgentHostPathVolumes = false
    @Option(help: "The image of the restore-wait init container added to restored pods with pod volume data.")
    var restoreHelperImage = "velero-cas:\(VersionCommand.current)"
    @OptionGroup var runtime: ServerRuntimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(concurrentBackups) else {
            throw ValidationError("--concurrent-backups must be between 1 and 64")
        }
        guard let frequency = KubeDuration.seconds(garbageCollectionFrequency), frequency >= 1 else {
            throw ValidationError(
                "--garbage-collection-frequency '\(garbageCollectionFrequency)' must be a duration of at least 1s")
        }
        guard let ttl = KubeDuration.seconds(defaultBackupTTL), ttl >= 1 else {
            throw ValidationError("--default-backup-ttl '\(defaultBackupTTL)' must be a duration of at least 1s")
        }
        for (flag, value) in [
            ("--backup-sync-period", backupSyncPeriod), ("--store-validation-frequency", storeValidationFrequency),
        ] {
            guard let seconds = KubeDuration.seconds(value), seconds >= 1 else {
                throw ValidationError("\(flag) '\(value)' must be a duration of at least 1s (e.g. 1m, 30s)")
            }
        }
        guard let timeout = KubeDuration.seconds(fsBackupTimeout), timeout >= 1 else {
            throw ValidationError(
                "--fs-backup-timeout '\(fsBackupTimeout)' must be a duration of at least 1s (e.g. 4h)")
        }
        try ResourceName.validate(namespace, what: "namespace")
        try InstallValidation.image(restoreHelperImage, flag: "--restore-helper-image")
    }

    func run() async throws {
        try global.bootstrapLogging()
        let client = try await Self.clusterClient(cluster)
        if installCrds { try await Self.installCRDs(client) }
        let storeOptions = storeOptions
        var configuration = VeleroServer.Configuration(
            namespace: namespace, concurrentBackups: concurrentBackups,
            garbageCollectionFrequency: .milliseconds(
                Int(KubeDuration.seconds(garbageCollectionFrequency)! * 1000)),
            defaultBackupTTL: Int(KubeDuration.seconds(defaultBackupTTL)!), passwords: storeOptions.passwords,
            fallbackLocation: { name, create in try await Self.configuredLocation(storeOptions, name, create) })
        try runtime.apply(to: &configuration, inCluster: Self.inCluster(cluster))
        configuration.backupSyncPeriod = .milliseconds(Int(KubeDuration.seconds(backupSyncPeriod)! * 1000))
        configuration.storeValidationFrequency = .milliseconds(
            Int(KubeDuration.seconds(storeValidationFrequency)! * 1000))
        configuration.serverVersion = VersionCommand.current
        configuration.defaultVolumesToFsBackup = defaultVolumesToFsBackup
        configuration.podVolumeOperationTimeout = .milliseconds(Int(KubeDuration.seconds(fsBackupTimeout)! * 1000))
        configuration.restoreHelperImage = restoreHelperImage
        configuration.hostPathVolumesOnNodeAgents = nodeAgentHostPathVolumes
        let server = VeleroServer(client: client, configuration: configuration)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "velero-cas.server")))
        try await group.run()
    }

    /// --kubeconfig/$KUBECONFIG when given, else the pod's in-cluster configuration when there is one, else
    /// ~/.kube/config.
    static func clusterClient(_ cluster: ClusterOptions) async throws -> KubeClient {
        let environment = ProcessInfo.processInfo.environment
        if inCluster(cluster) {
            // It reads the service account's token and CA files: on the blocking pool.
            let configuration = try await BlockingPool.shared.run {
                try ClusterConfiguration.inCluster(environment: environment)
            }
            return KubeClient(configuration: configuration)
        }
        return try await cluster.client()
    }

    /// In a pod, without --kubeconfig or $KUBECONFIG: the in-cluster configuration is used.
    static func inCluster(_ cluster: ClusterOptions) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        return cluster.kubeconfig == nil && (environment["KUBECONFIG"] ?? "").isEmpty
            && environment["KUBERNETES_SERVICE_HOST"] != nil
    }

    /// A location with no BackupStorageLocation object: `--store` serves the name "default" (or the
    /// --storage-location name); otherwise the CLI's configured locations by name.
    static func configuredLocation(_ options: StoreOptions, _ name: String, _ create: Bool) async throws -> Repository?
    {
        var options = options
        if options.store != nil {
            guard name == (options.storageLocation ?? "default") else { return nil }
        } else {
            options.storageLocation = name
            guard (try? StorageLocations.load().resolve(name)) != nil else { return nil }
        }
        return create ? try await options.openForWriting() : try await options.openExisting()
    }

    /// Creates each velero.io definition that does not exist yet.
    static func installCRDs(_ client: KubeClient) async throws {
        let definitions = APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            kind: "CustomResourceDefinition", namespaced: false)
        for definition in VeleroCRDs.all {
            do {
                try await client.create(definitions, namespace: nil, json: try definition.json())
            } catch let error as KubeAPIError where error.isAlreadyExists {}
        }
    }
}
