import ChunkStore
import Foundation
import KubeClient
import Logging
import Operations
import ServiceLifecycle
import Synchronization
import SystemIO
import VeleroAPI

/// `velero-cas server`: controllers on Velero's objects in one namespace. Backups and restores are listed and
/// watched, validated, run through the same operations as the CLI's local mode, and their status written back;
/// DeleteBackupRequests delete a backup's data, restores and object; expired backups get DeleteBackupRequests.
/// Store-facing: backups in a location's store appear as Backup objects (sync), each location's store is checked
/// (`status.phase`), DownloadRequests get URLs, ServerStatusRequests the version.
///
/// A ServiceLifecycle service: on graceful shutdown (SIGTERM, SIGINT through a ServiceGroup) it stops watching and
/// taking work and lets the backups and restores it runs finish; cancellation stops everything at once. A backup
/// or restore some earlier server left InProgress (it was killed) is marked Failed when the server starts.
public final class VeleroServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// The namespace whose Velero objects the server handles.
        public var namespace: String
        /// Backups (and, separately, restores) run at once.
        public var concurrentBackups: Int
        /// How often expired backups are looked for.
        public var garbageCollectionFrequency: Duration
        /// The TTL of a backup whose spec gives none (Velero's default: 720h).
        public var defaultBackupTTL: Int
        /// How often a running backup's or restore's progress may be written.
        public var progressInterval: Duration
        /// Passwords of encrypted stores.
        public var passwords: any PasswordSource
        /// Opens a location that has no BackupStorageLocation object (the CLI's configured locations).
        public var fallbackLocation: (@Sendable (_ name: String, _ create: Bool) async throws -> Repository?)?
        /// Where credentials from Secrets are written for the S3 client (0700, files 0600).
        public var credentialsDirectory: String
        /// Concurrent resource collectors per backup, objects applied at once per restore.
        public var collectorWidth: Int
        public var restoreWidth: Int
        /// How often every schedule is looked at (Velero: each minute).
        public var scheduleCheckInterval: Duration
        /// The clock expiry and schedules are judged by.
        public var now: @Sendable () -> Date
        /// Leader election among replicas; nil runs the controllers at once, alone (one replica only).
        public var leaderElection: LeaderElection?
        /// Where `/metrics`, `/healthz` and `/readyz` are served (port 0: any free port); nil serves none.
        public var metricsAddress: EndpointAddress?
        /// Whether the server fails when it cannot listen there (in a pod, where the probes need it); otherwise it
        /// warns and runs without the endpoints (two servers on one machine during development).
        public var metricsRequired = true
        /// How often the Backup and Restore objects are counted for `velero_backup_total` and
        /// `velero_restore_total` (Velero: every 30 seconds).
        public var metricsRefreshInterval: Duration = .seconds(30)
        /// Store-facing work: how often stored backups are synced into the cluster and locations validated (both
        /// Velero's default minute; a location's own spec overrides them), how long a download URL works (Velero:
        /// 10 minutes), how often expired download and server status requests are looked for, and the version
        /// ServerStatusRequests report.
        public var backupSyncPeriod: Duration = .seconds(60)
        public var storeValidationFrequency: Duration = .seconds(60)
        public var downloadURLTTL: Duration = .seconds(600)
        public var downloadSweepInterval: Duration = .seconds(60)
        public var serverVersion = "dev"
        /// File-system backup of pod volumes: whether a Backup that does not say backs up every pod volume (opt-out)
        /// instead of only the annotated ones, how long a backup waits for the node agents (Velero's
        /// `--fs-backup-timeout`, 4h), and how often it looks at their PodVolumeBackups.
        public var defaultVolumesToFsBackup = false
        public var podVolumeOperationTimeout: Duration = .seconds(4 * 3600)
        public var podVolumePollInterval: Duration = .milliseconds(500)
        /// The image of the `restore-wait` init container added to restored pods with pod volume data (the
        /// server's own image: its entrypoint is velero-cas).
        public var restoreHelperImage = "velero-cas:dev"
        /// Whether hostPath and local persistent volumes whose node affinity names one node are read by that node's
        /// agent (`--node-agent-host-path-volumes`) instead of at their path by the server.
        public var hostPathVolumesOnNodeAgents = false

        public init(
            namespace: String = "velero", concurrentBackups: Int = 1,
            garbageCollectionFrequency: Duration = .seconds(3600),
            defaultBackupTTL: Int = 720 * 3600, progressInterval: Duration = .seconds(1),
            passwords: any PasswordSource,
            fallbackLocation: (@Sendable (String, Bool) async throws -> Repository?)? = nil,
            credentialsDirectory: String = NSTemporaryDirectory() + "velero-cas-credentials-\(getpid())",
            collectorWidth: Int = 8, restoreWidth: Int = 16, scheduleCheckInterval: Duration = .seconds(60),
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.namespace = namespace
            self.concurrentBackups = concurrentBackups
            self.garbageCollectionFrequency = garbageCollectionFrequency
            self.defaultBackupTTL = defaultBackupTTL
            self.progressInterval = progressInterval
            self.passwords = passwords
            self.fallbackLocation = fallbackLocation
            self.credentialsDirectory = credentialsDirectory
            self.collectorWidth = collectorWidth
            self.restoreWidth = restoreWidth
            self.scheduleCheckInterval = scheduleCheckInterval
            self.now = now
        }
    }

    let client: KubeClient
    let configuration: Configuration
    let storage: StorageResolver
    let logger: Logger
    private let stopping = StopSignal()
    /// Velero's metrics, as `/metrics` serves them.
    public let metrics = ServerMetrics()
    let health = ServerHealth()
    let boundMetricsPort = Mutex<Int?>(nil)
    let elector: LeaderElector?

    /// Sets up swift-log for the process unless it was (`RunLogging.bootstrap`): each backup and restore keeps its
    /// own log through `RunLogHandler`.
    public init(client: KubeClient, configuration: Configuration) {
        RunLogging.bootstrap()
        logger = Logger(label: "velero-cas.server")
        self.client = client
        self.configuration = configuration
        storage = StorageResolver(
            client: client, namespace: configuration.namespace, passwords: configuration.passwords,
            fallback: configuration.fallbackLocation, credentialsDirectory: configuration.credentialsDirectory)
        let logger = logger
        // Lease requests go through a client of their own (as client-go's leader election has): in the shared one,
        // a renewal queued behind a backup's requests (its connection pool, its in-flight limit) and, on a loaded
        // machine, missed the renew deadline while the backups ran.
        let leaseClient = KubeClient(configuration: client.configuration, maxConnections: 2)
        elector = configuration.leaderElection.map {
            LeaderElector(client: leaseClient, namespace: configuration.namespace, settings: $0, logger: logger)
        }
    }

    /// Stops watching and taking work; `run()` returns once running work is done.
    public func stop() { stopping.fire() }

    /// Serves the endpoints (when configured) and, with leader election, waits to lead before the controllers run;
    /// throws `LeaderElectionError.lost` when leadership is lost (the controllers are stopped first).
    public func run() async throws {
        logger.info("server started in namespace \(configuration.namespace)")
        let endpoints = try await startEndpoints()
        do {
            try await withGracefulShutdownHandler {
                try await withTaskCancellationHandler {
                    if let elector {
                        try await elector.lead(stopping: stopping) { await self.runControllers() }
                    } else {
                        await runControllers()
                    }
                } onCancel: {
                    self.stop()
                }
            } onGracefulShutdown: {
                self.stop()
            }
        } catch {
            await endpoints?.shutdown()
            throw error
        }
        await endpoints?.shutdown()
        logger.info("server stopped")
    }

    /// The controllers until the server stops: intake ends, running work finishes.
    private func runControllers() async {
        let backups = BackupController(server: self)
        let restores = RestoreController(server: self)
        let deletions = DeletionController(server: self)
        let schedules = ScheduleController(server: self)
        let presence = PresenceHeartbeat(server: self, host: await HostName.current())
        // Cancelled when leadership is lost: that stops the server, cancelling running work too.
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                let storeFacing = StoreFacingControllers(server: self)
                let loops = [backups.loop, restores.loop, deletions.loop, schedules.loop] + storeFacing.loops
                health.expect(loops.map(\.watcher.resource.kind))
                for loop in loops { group.addTask { await self.runLoop(loop) } }
                group.addTask { await self.untilStopped { await deletions.expireLoop() } }
                group.addTask { await self.untilStopped { await schedules.tickLoop() } }
                group.addTask { await self.untilStopped { await self.countObjectsLoop() } }
                group.addTask { await self.untilStopped { await presence.run() } }
                for body in storeFacing.periodic { group.addTask { await self.untilStopped(body) } }
            }
        } onCancel: {
            self.stop()
        }
        await presence.release()
    }

    /// Runs `body` until the server stops (then cancels it).
    func untilStopped(_ body: @escaping @Sendable () async -> Void) async { await stopping.running(body) }

    /// A controller's intake (list+watch into its queue) until the server stops, and its workers until the queue
    /// is closed and their current item done.
    private func runLoop(_ loop: ControllerLoop) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.untilStopped {
                    await loop.watcher.run(
                        listed: { objects in
                            await loop.listed(objects)
                            self.health.listed(loop.watcher.resource.kind)
                        }, changed: { await loop.queue.add($0.name) })
                }
                await loop.queue.close()
            }
            for _ in 0..<loop.workers {
                group.addTask {
                    while let name = await loop.queue.next() {
                        do {
                            try await loop.process(name)
                        } catch {
                            if !Task.isCancelled {
                                self.logger.warning("\(loop.watcher.resource.kind) \(name): \(error); retrying")
                                loop.queue.add(name, after: .seconds(2))
                            }
                        }
                        await loop.queue.done(name)
                    }
                }
            }
        }
    }
}

/// One controller's parts: what it watches, its queue, how many workers, and what it does with a name.
struct ControllerLoop: Sendable {
    let watcher: ResourceWatcher
    let queue: WorkQueue
    let workers: Int
    let listed: @Sendable ([KubeObject]) async -> Void
    let process: @Sendable (String) async throws -> Void
}

/// Fired once; every waiter (before or after) returns, and so does a waiter whose task is cancelled.
final class StopSignal: Sendable {
    private struct State {
        var fired = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs `body` until the signal fires (then cancels it).
    func running(_ body: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await body() }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    func wait() async {
        let id = state.withLock { state in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// The phase of an object that does not decode, read loosely so its status can still be judged.
struct LoosePhase: Decodable {
    struct Status: Decodable { var phase: String? }
    var status: Status?

    static func of(_ object: KubeObject) -> String {
        (try? JSONDecoder().decode(LoosePhase.self, from: Data(object.json)))?.status?.phase ?? ""
    }
}
