import ArgumentParser
import ChunkStore
import Foundation
import KubeClient
import VeleroAPI

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install velero-cas's server in a cluster, or write what it would install (--dry-run -o yaml).",
        discussion: """
            Makes what Velero's install makes: the velero.io CRDs (labelled component=velero), the namespace, the \
            'velero' ServiceAccount bound to cluster-admin (as Velero binds it: backups read and restores create \
            every kind), the 'cloud-credentials' Secret (key 'cloud') from --secret-file, the secret holding the \
            store's password ('velero-cas-store-password': from --store-password-file, else a random one; an \
            existing one is kept, since the store cannot be read without it), the 'default' BackupStorageLocation, \
            and the 'velero' Deployment running 'velero-cas server' with leader election and metrics on :8085; \
            with --use-node-agent, the 'node-agent' DaemonSet running 'velero-cas node-agent' on every node (the \
            kubelet's pod directories mounted from the host, NODE_NAME from the downward API). \
            Objects that exist are updated. With --dry-run -o yaml|json nothing is sent: the objects are printed as \
            a v1 List, for kubectl apply or GitOps (apply the --crds-only output first, so that the \
            BackupStorageLocation's kind exists when kubectl maps it).
            """)

    @Option(name: .shortAndLong, help: "The namespace to install into.") var namespace = "velero"
    @Option(help: "The server's image (its entrypoint is velero-cas).")
    var image = "velero-cas:\(VersionCommand.current)"
    @Option(help: "The default location's provider: aws or local.") var provider: String?
    @Option(help: "The default location's bucket (provider aws).") var bucket: String?
    @Option(help: "A prefix within the bucket.") var prefix: String?
    @Option(help: "The default location's config, k=v,… (aws: region, s3Url, s3ForcePathStyle, profile; local: path).")
    var backupLocationConfig: [String] = []
    @Flag(help: "Make no default BackupStorageLocation.") var noDefaultBackupLocation = false
    @Option(help: "A credentials file (AWS INI) stored in the 'cloud-credentials' Secret under the key 'cloud'.")
    var secretFile: String?
    @Flag(help: "Make no credentials Secret (confirms that --secret-file is left out on purpose).") var noSecret = false
    @Option(help: "A file holding the password of the store (new stores are encrypted); default: a random one.")
    var storePasswordFile: String?
    @Option(help: "Server replicas (one leads; the others stand by).") var replicas = 1
    @Option(help: "Backups (and restores) the server runs at once.") var concurrentBackups = 1
    @Option(help: "How often the server deletes expired backups (Go duration).") var garbageCollectionFrequency: String?
    @Option(help: "Annotations for the server's pods, k=v,….") var podAnnotations: [String] = []
    @Option(help: "Labels for the server's pods, k=v,….") var podLabels: [String] = []
    @Option(name: .customLong("sa-annotations"), help: "Annotations for the ServiceAccount, k=v,….")
    var serviceAccountAnnotations: [String] = []
    @Flag(help: "Install only the CustomResourceDefinitions.") var crdsOnly = false
    @Flag(help: "Send nothing; print the objects (needs -o yaml or -o json).") var dryRun = false
    @Option(name: .shortAndLong, help: "With --dry-run: yaml or json.") var output: String?
    @Flag(help: "Wait until the server's Deployment exists (and, where pods run, has an available replica).")
    var wait = false
    @Flag(help: "Make the node agent's DaemonSet ('node-agent'): pod volume backup and restore on every node.")
    var useNodeAgent = false
    @Option(help: "With --use-node-agent: the kubelet's root directory on the nodes.")
    var kubeletRootDir = "/var/lib/kubelet"
    @Flag(
        help:
            "With --use-node-agent: hostPath and local persistent volumes are read by the agent of their node (which then mounts the node's root at /host)."
    )
    var nodeAgentHostPathVolumes = false
    @Option(help: "Run as this existing ServiceAccount (its RBAC is yours to make): no account, no binding is made.")
    var serviceAccountName: String?
    @Flag(help: "Accepted for Velero's sake: objects that exist are always updated.") var apply = false
    @Option(help: "Accepted for Velero's sake and ignored: the aws and local providers are built in.")
    var plugins: [String] = []
    @Option(
        help: ArgumentHelp(
            "Accepted for Velero's sake: volume data always goes into the backup's store (see snapshot-location).",
            valueName: "bool"))
    var useVolumeSnapshots: Bool?
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let output, !["yaml", "json"].contains(output) {
            throw ValidationError("-o/--output '\(output)' is not supported (use yaml or json)")
        }
        if dryRun && output == nil { throw ValidationError("--dry-run prints the objects: give -o yaml or -o json") }
        if !dryRun && output != nil { throw ValidationError("-o/--output '\(output!)' is only for --dry-run") }
        if dryRun && wait { throw ValidationError("--wait cannot be combined with --dry-run: nothing is installed") }
        try InstallValidation.namespace(namespace, flag: "--namespace")
        if crdsOnly { return }
        _ = try location()
        try InstallValidation.image(image)
        switch (secretFile, noSecret) {
        case (nil, false): throw ValidationError("one of --secret-file or --no-secret is required")
        case (.some, true): throw ValidationError("--secret-file and --no-secret cannot be combined")
        default: break
        }
        guard (1...10).contains(replicas) else { throw ValidationError("--replicas \(replicas) must be 1 to 10") }
        guard (1...64).contains(concurrentBackups) else {
            throw ValidationError("--concurrent-backups \(concurrentBackups) must be between 1 and 64")
        }
        if let garbageCollectionFrequency {
            guard let seconds = KubeDuration.seconds(garbageCollectionFrequency), seconds >= 1 else {
                throw ValidationError(
                    "--garbage-collection-frequency '\(garbageCollectionFrequency)' must be a Go duration of at least 1s"
                )
            }
        }
        _ = try InstallValidation.labels(podLabels, flag: "--pod-labels")
        if nodeAgentHostPathVolumes && !useNodeAgent {
            throw ValidationError("--node-agent-host-path-volumes needs --use-node-agent")
        }
        guard kubeletRootDir.hasPrefix("/"), !kubeletRootDir.contains("..") else {
            throw ValidationError("--kubelet-root-dir '\(kubeletRootDir)' must be an absolute path")
        }
        if let serviceAccountName {
            do { try ResourceName.validate(serviceAccountName, what: "--service-account-name") } catch {
                throw ValidationError("--service-account-name '\(serviceAccountName)': \(error)")
            }
            if !serviceAccountAnnotations.isEmpty {
                throw ValidationError("--sa-annotations is for the account install makes, not --service-account-name")
            }
        }
        _ = try keyValues(commaList(podAnnotations).joined(separator: ","), flag: "--pod-annotations")
        _ = try keyValues(commaList(serviceAccountAnnotations).joined(separator: ","), flag: "--sa-annotations")
    }

    /// The default location from the flags, nil with --no-default-backup-location.
    func location() throws -> InstallManifests.Location? {
        let config = try keyValues(
            commaList(backupLocationConfig).joined(separator: ","), flag: "--backup-location-config")
        if noDefaultBackupLocation {
            for (flag, given) in [
                ("--provider", provider != nil), ("--bucket", bucket != nil), ("--prefix", prefix != nil),
                ("--backup-location-config", !config.isEmpty),
            ] where given {
                throw ValidationError("\(flag) cannot be combined with --no-default-backup-location")
            }
            return nil
        }
        guard let provider else {
            throw ValidationError("--provider is required (aws or local), or --no-default-backup-location")
        }
        return try InstallValidation.location(provider: provider, bucket: bucket, prefix: prefix, config: config)
    }

    func run() async throws {
        try global.bootstrapLogging()
        if !plugins.isEmpty {
            FileHandle.standardError.write(
                Data("--plugins: not needed, the aws and local providers are built in; ignored\n".utf8))
        }
        let objects = try crdsOnly ? InstallManifests.crds() : InstallManifests.all(try await settings())
        if dryRun { return try print(objects) }
        let client = try await cluster.client()
        try await InstallApplier(client: client).apply(objects)
        if !crdsOnly && wait { try await InstallApplier(client: client).waitForDeployment(namespace: namespace) }
        if crdsOnly {
            Swift.print("The velero.io CustomResourceDefinitions are installed.")
        } else {
            Swift.print(
                "velero-cas is installed in namespace '\(namespace)'. "
                    + "Use 'kubectl logs deployment/velero -n \(namespace)' to see the server's log.")
        }
    }

    private func settings() async throws -> InstallManifests.Settings {
        var settings = InstallManifests.Settings(storePassword: "")
        settings.namespace = namespace
        settings.image = image
        settings.replicas = replicas
        settings.location = try location()
        settings.concurrentBackups = concurrentBackups
        settings.garbageCollectionFrequency = garbageCollectionFrequency
        settings.podAnnotations = try keyValues(
            commaList(podAnnotations).joined(separator: ","), flag: "--pod-annotations")
        settings.podLabels = try InstallValidation.labels(podLabels, flag: "--pod-labels")
        settings.existingServiceAccount = serviceAccountName
        settings.useNodeAgent = useNodeAgent
        settings.kubeletRootDir = kubeletRootDir
        settings.hostPathVolumesOnNodeAgents = nodeAgentHostPathVolumes
        settings.serviceAccountAnnotations = try keyValues(
            commaList(serviceAccountAnnotations).joined(separator: ","), flag: "--sa-annotations")
        if let secretFile {
            settings.credentials = try await InstallValidation.credentials(secretFile, provider: provider)
        }
        settings.storePassword = try await InstallValidation.storePassword(storePasswordFile)
        return settings
    }

    private func print(_ objects: [ManifestValue]) throws {
        let list: ManifestValue = ["apiVersion": "v1", "kind": "List", "items": .array(objects)]
        Swift.print(try list.rendered(yaml: output != "json"), terminator: "")
    }
}
