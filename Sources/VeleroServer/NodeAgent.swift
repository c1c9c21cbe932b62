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
/// on the object. `concurrency` volumes at once. An object left InProgress by an agent that died is redone.
public final class NodeAgent: Service, Sendable {
    public struct Configuration: Sendable {
        /// This agent's node (`NODE_NAME`, from the downward API in a DaemonSet).
        public var nodeName: String
        /// The kubelet's root directory as mounted here (`/var/lib/kubelet`).
        public var kubeletRootDirectory: String
        /// The namespace of the Velero objects.
        public var namespace: String
        /// Volumes backed up at once.
        public var concurrency: Int
        /// Files read at once within one volume.
        public var fileConcurrency: Int
        /// How often a running volume's progress may be written.
        public var progressInterval: Duration
        public var passwords: any PasswordSource
        /// Opens a location that has no BackupStorageLocation object (the CLI's configured locations).
        public var fallbackLocation: (@Sendable (_ name: String, _ create: Bool) async throws -> Repository?)?
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
    }

    /// Stops taking work; `run()` returns once the volumes being backed up are done.
    public func stop() { stopping.fire() }

    /// Watches and works until stopped (SIGTERM through the service group, `stop()`, or cancellation).
    public func run() async throws {
        logger.info(
            "node agent started on node \(configuration.nodeName), kubelet root \(configuration.kubeletRootDirectory)")
        let queue = WorkQueue()
        let watcher = ResourceWatcher(
            client: client, resource: PodVolumeBackup.resource, namespace: configuration.namespace, logger: logger)
        let node = configuration.nodeName
        // Only this node's unfinished objects are queued, read loosely so that one that does not decode is
        // queued too (and marked Failed with the reason).
        let offer: @Sendable (KubeObject) async -> Void = { object in
            struct Loose: Decodable {
                struct Spec: Decodable { var node: String? }
                var spec: Spec?
            }
            let loose = try? JSONDecoder().decode(Loose.self, from: Data(object.json))
            let phase = PodVolumeBackup.Phase(rawValue: LoosePhase.of(object))
            if loose?.spec?.node == node, !phase.isFinal { await queue.add(object.name) }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        await self.stopping.running {
                            await watcher.run(
                                listed: { for object in $0 { await offer(object) } }, changed: { await offer($0) })
                        }
                        await queue.close()
                    }
                    for _ in 0..<configuration.concurrency {
                        group.addTask {
                            while let name = await queue.next() {
                                do {
                                    try await self.process(name)
                                } catch {
                                    if !Task.isCancelled {
                                        self.logger.warning("PodVolumeBackup \(name): \(error); retrying")
                                        queue.add(name, after: .seconds(2))
                                    }
                                }
                                await queue.done(name)
                            }
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
}
