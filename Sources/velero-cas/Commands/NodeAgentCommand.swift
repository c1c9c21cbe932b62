import ArgumentParser
import ChunkStore
import Foundation
import Logging
import ServiceLifecycle
import SystemIO
import VeleroAPI
import VeleroServer

struct NodeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-agent",
        abstract:
            "Back up and restore the pod volumes of this node (PodVolumeBackup and PodVolumeRestore objects), as Velero's node-agent DaemonSet.",
        discussion: """
            The node is named by the NODE_NAME environment variable (the downward API's spec.nodeName in a \
            DaemonSet). Each PodVolumeBackup whose spec.node is this node is read from \
            <kubelet-root-dir>/pods/<pod uid>/volumes/<plugin>/<volume> into the store its storage location names, \
            incrementally against the previous snapshot of the same claim (or the same pod volume), with progress \
            and the outcome written on the object. Each PodVolumeRestore whose restored pod is scheduled on this \
            node is written into <kubelet-root-dir>/pods/<new pod uid>/volumes/<plugin>/<volume> once the kubelet \
            has made that directory (waiting up to --volume-wait-timeout), followed by the done file \
            .velero/<restore uid> that releases the pod's restore-wait init container. SIGTERM or SIGINT stop taking work and let running volumes finish; \
            a volume left InProgress by a killed agent is redone when the agent starts again.
            """)

    @Option(name: .shortAndLong, help: "The namespace of the Velero objects.") var namespace = "velero"
    @Option(help: "The kubelet's root directory as this process sees it.") var kubeletRootDir = "/var/lib/kubelet"
    @Option(help: "Pod volumes backed up at once (and, apart from those, restored at once).") var concurrency = 2
    @Option(help: "How long a restore waits for the kubelet to make the restored pod's volume directory (Go duration).")
    var volumeWaitTimeout = "1h"
    @Option(help: "The node's root file system as this process sees it, for hostPath and local persistent volumes.")
    var hostRootDir = "/host"
    @Option(
        help:
            "Bound the bytes per second read from volumes by this agent, all volumes together (default: unbounded; stands in for a node's disk in benchmarks)."
    )
    var readBytesPerSecond: Int?
    @Option(
        help:
            "Bound the bytes per second written into volumes by this agent's restores, all volumes together (default: unbounded; a node's disk is shared with its pods)."
    )
    var writeBytesPerSecond: Int?
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(concurrency) else {
            throw ValidationError("--concurrency \(concurrency) must be between 1 and 64")
        }
        if let rate = readBytesPerSecond, rate < 1 {
            throw ValidationError("--read-bytes-per-second \(rate) must be at least 1")
        }
        if let rate = writeBytesPerSecond, rate < 1 {
            throw ValidationError("--write-bytes-per-second \(rate) must be at least 1")
        }
        guard let wait = KubeDuration.seconds(volumeWaitTimeout), wait >= 1 else {
            throw ValidationError(
                "--volume-wait-timeout '\(volumeWaitTimeout)' must be a Go duration of at least 1s (e.g. 30m)")
        }
        guard hostRootDir.hasPrefix("/"), !hostRootDir.split(separator: "/").contains("..") else {
            throw ValidationError("--host-root-dir '\(hostRootDir)' must be an absolute path")
        }
        guard kubeletRootDir.hasPrefix("/") else {
            throw ValidationError("--kubelet-root-dir '\(kubeletRootDir)' must be an absolute path")
        }
        try ResourceName.validate(namespace, what: "namespace")
        _ = try Self.nodeName()
    }

    /// NODE_NAME, checked.
    static func nodeName() throws -> String {
        let name = ProcessInfo.processInfo.environment["NODE_NAME"] ?? ""
        guard !name.isEmpty else {
            throw ValidationError(
                "the NODE_NAME environment variable must name this node (in a DaemonSet: fieldRef spec.nodeName)")
        }
        do {
            try ResourceName.validate(name, what: "NODE_NAME")
        } catch {
            throw ValidationError("NODE_NAME '\(name)' is not a node name: \(error)")
        }
        return name
    }

    func run() async throws {
        try global.bootstrapLogging()
        let root = kubeletRootDir
        guard try await BlockingPool.shared.run({ try FileSystem.statusIfExists(root) })?.kind == .directory else {
            throw ValidationError(
                "--kubelet-root-dir '\(root)' is not a directory (mount the kubelet's root, /var/lib/kubelet, into the pod)"
            )
        }
        let client = try await ServerCommand.clusterClient(cluster)
        let storeOptions = storeOptions
        var configuration = NodeAgent.Configuration(
            nodeName: try Self.nodeName(), kubeletRootDirectory: kubeletRootDir, namespace: namespace,
            concurrency: concurrency, passwords: storeOptions.passwords,
            fallbackLocation: { name, create in
                try await ServerCommand.configuredLocation(storeOptions, name, create)
            })
        configuration.readBytesPerSecond = readBytesPerSecond
        configuration.writeBytesPerSecond = writeBytesPerSecond
        configuration.volumeWaitTimeout = .milliseconds(Int(KubeDuration.seconds(volumeWaitTimeout)! * 1000))
        configuration.hostRootDirectory =
            hostRootDir.count > 1 && hostRootDir.hasSuffix("/")
            ? String(hostRootDir.dropLast()) : hostRootDir
        let agent = NodeAgent(client: client, configuration: configuration)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "velero-cas.node-agent")))
        try await group.run()
    }
}
