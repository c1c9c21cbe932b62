import ChunkStore
import Foundation
import KubeClient
import Logging
import ServiceLifecycle
import SystemIO
import VeleroAPI

/// `velero-cas node-agent`: the per-node volume agent. It watches the PodVolumeBackups in its namespace, takes those
/// whose `spec.node` is its node, reads each pod volume's directory under the kubelet's root
/// (`<root>/pods/<pod uid>/volumes/<plugin>/<volume>`) into the location's store, and writes progress and the outcome
/// on the object. It also watches the PodVolumeRestores, takes those whose restored pod is scheduled on its node, and
/// writes each snapshot into the new pod's volume directory, then the done file (`NodeAgentRestore`).
/// `concurrency` volumes backed up at once, and as many restored. An object left InProgress by an agent that died is
/// redone.
public final class NodeAgent: Service, Sendable {
    public struct Configuration: Sendable {
        /// This agent's node (`NODE_NAME`, from the downward API in a DaemonSet).
        public var nodeName: String
        /// The kubelet's root directory as mounted here (`/var/lib/kubelet`).
        public var kubeletRootDirectory: String
        /// The namespace of the Velero objects.
        public var namespace: String
        /// The node's root file system as mounted here, for hostPath and local persistent volumes (`/host`; `/`
        /// when the agent runs on the node itself).
        public var hostRootDirectory = "/host"
        /// Volumes backed up at once.
        public var concurrency: Int
        /// Files read at once within one volume.
        public var fileConcurrency: Int
        /// How often a running volume's progress may be written.
        public var progressInterval: Duration
        /// How long a restore waits for the kubelet to make the restored pod's volume directory, from when the
        /// agent took the PodVolumeRestore.
        public var volumeWaitTimeout: Duration = .seconds(3600)
        /// How often a PodVolumeRestore waiting for its pod (to be scheduled, or its directory to appear) is looked
        /// at again.
        public var restorePollInterval: Duration = .seconds(1)
        public var passwords: any PasswordSource
        /// Opens a location that has no BackupStorageLocation object (the CLI's configured locations).
        public var fallbackLocation: (@Sendable (_ name: String, _ create: Bool) async throws -> Repository?)?
        /// Bounds the bytes per second this agent reads from volumes, over all its volumes together (nil:
        /// unbounded, the default). It stands in for a node's own disk in benchmarks.
        public var readBytesPerSecond: Int?
        /// Bounds the bytes per second this agent writes into volumes when it restores them, over all its volumes
        /// together (nil: unbounded, the default): a node's disk is shared with the pods running on it.
        public var writeBytesPerSecond: Int?
        /// Where credentials from Secrets are written for the S3 client.
        public var credentialsDirectory: String

        public init(
            nodeName: String, kubeletRootDirectory: String = "/var/lib/kubelet", namespace: String = "velero",
            concurrency: Int = 2, fileConcurrency: Int = 4, progressInterval: Duration = .seconds(1),
            passwords: any PasswordSource,
            fallbackLocation: (@Sendable (String, Bool) async throws -> Repository?)? = nil,
            credentialsDirectory: String = NSTemporaryDirectory() + "velero-cas-node-credentials-\(getpid())"
        ) {
            self.nodeName = nodeName
            self.kubeletRootDirectory = kubeletRootDirectory
            self.namespace = namespace
            self.concurrency = max(1, concurrency)
            self.fileConcurrency = max(1, fileConcurrency)
            self.progressInterval = progressInterval
            self.passwords = passwords
            self.fallbackLocation = fallbackLocation
            self.credentialsDirectory = credentialsDirectory
        }
    }

    public let client: KubeClient
    public let configuration: Configuration
    let storage: StorageResolver
    let logger: Logger
    /// Shared by the volume workers, so the bound holds for the agent as a whole.
    let readThrottle: ByteThrottle?
    /// Shared by the restores, likewise.
    let writeThrottle: ByteThrottle?
    private let stopping = StopSignal()

    public init(client: KubeClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
        storage = StorageResolver(
            client: client, namespace: configuration.namespace, passwords: configuration.passwords,
            fallback: configuration.fallbackLocation, credentialsDirectory: configuration.credentialsDirectory)
        var logger = Logger(label: "velero-cas.node-agent")
        logger[metadataKey: "node"] = "\(configuration.nodeName)"
        self.logger = logger
        readThrottle = configuration.readBytesPerSecond.map { ByteThrottle(bytesPerSecond: $0) }
        writeThrottle = configuration.writeBytesPerSecond.map { ByteThrottle(bytesPerSecond: $0) }
    }

    /// Stops taking work; `run()` returns once the volumes being backed up are done.
    public func stop() { stopping.fire() }

    /// Watches and works until stopped (SIGTERM through the service group, `stop()`, or cancellation).
    public func run() async throws {
        logger.info(
            "node agent started on node \(configuration.nodeName), kubelet root \(configuration.kubeletRootDirectory)")
        let backups = WorkQueue()
        let restores = WorkQueue()
        let node = configuration.nodeName
        // Only this node's unfinished PodVolumeBackups are queued, read loosely so that one that does not decode is
        // queued too (and marked Failed with the reason). A PodVolumeRestore names no node until an agent takes it:
        // the unfinished ones not taken by another node are queued, and the pod's node decides.
        struct Loose: Decodable {
            struct Spec: Decodable { var node: String? }
            struct Status: Decodable { var node: String? }
            var spec: Spec?
            var status: Status?
        }
        let intakes: [(resource: APIResource, queue: WorkQueue, wanted: @Sendable (Loose?) -> Bool)] = [
            (PodVolumeBackup.resource, backups, { $0?.spec?.node == node }),
            (PodVolumeRestore.resource, restores, { ($0?.status?.node ?? "").isEmpty || $0?.status?.node == node }),
        ]
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    for intake in intakes {
                        let watcher = ResourceWatcher(
                            client: client, resource: intake.resource, namespace: configuration.namespace,
                            logger: logger)
                        let offer: @Sendable (KubeObject) async -> Void = { object in
                            let loose = try? JSONDecoder().decode(Loose.self, from: Data(object.json))
                            let phase = PodVolumeBackup.Phase(rawValue: LoosePhase.of(object))
                            if intake.wanted(loose), !phase.isFinal { await intake.queue.add(object.name) }
                        }
                        group.addTask {
                            await self.stopping.running {
                                await watcher.run(
                                    listed: { for object in $0 { await offer(object) } }, changed: { await offer($0) })
                            }
                            await intake.queue.close()
                        }
                    }
                    group.addTask { await self.stopping.running { await self.openStorageLocations() } }
                    for _ in 0..<configuration.concurrency {
                        group.addTask {
                            await self.work(backups, PodVolumeBackup.kind) {
                                try await self.process($0)
                                return nil
                            }
                        }
                        group.addTask {
                            await self.work(restores, PodVolumeRestore.kind) { try await self.processRestore($0) }
                        }
                    }
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        logger.info("node agent stopped")
    }

    /// Takes names from `queue` until it is closed; `body` returns when to look at a name again (nil: done with
    /// it). A failure is logged and retried after two seconds.
    private func work(_ queue: WorkQueue, _ kind: String, _ body: @Sendable (String) async throws -> Duration?) async {
        while let name = await queue.next() {
            do {
                if let delay = try await body(name) { queue.add(name, after: delay) }
            } catch {
                if !Task.isCancelled {
                    logger.warning("\(kind) \(name): \(error); retrying")
                    queue.add(name, after: .seconds(2))
                }
            }
            await queue.done(name)
        }
    }
}
