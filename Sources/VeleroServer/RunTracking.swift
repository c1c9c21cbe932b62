import Foundation
import KubeClient
import Logging
import Synchronization
import VeleroAPI

/// The names this process is running, so a LIST can tell work of a dead process (InProgress, not ours) from ours.
final class RunningSet: Sendable {
    private let names = Mutex<Set<String>>([])
    func insert(_ name: String) { names.withLock { _ = $0.insert(name) } }
    func remove(_ name: String) { names.withLock { _ = $0.remove(name) } }
    func contains(_ name: String) -> Bool { names.withLock { $0.contains(name) } }
}

/// What the Backup and Restore controllers share: the phase changes around the work itself.
struct RunTracking<K: RunKind>: Sendable {
    let access: ObjectAccess<K>
    let running = RunningSet()
    let queue = WorkQueue()
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: ServerMetrics

    var noun: String { K.kind.lowercased() }

    init(server: VeleroServer) {
        access = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
        now = server.configuration.now
        logger = server.logger
        metrics = server.metrics
    }

    /// The controller's loop: list+watch the kind, `concurrentBackups` workers running `process`.
    func loop(_ server: VeleroServer, process: @escaping @Sendable (String) async throws -> Void) -> ControllerLoop {
        ControllerLoop(
            watcher: ResourceWatcher(
                client: server.client, resource: K.resource, namespace: server.configuration.namespace,
                logger: server.logger),
            queue: queue, workers: server.configuration.concurrentBackups, listed: { await listed($0) },
            process: process)
    }

    /// Every listed object is queued; one InProgress that this process is not running was left by a server that
    /// stopped (killed, or its node lost), and is Failed, as Velero marks it.
    func listed(_ objects: [KubeObject]) async {
        for object in objects {
            if LoosePhase.of(object) == RunPhase.inProgress.rawValue && !running.contains(object.name) {
                await abandon(object.name)
            }
            await queue.add(object.name)
        }
    }

    private func abandon(_ name: String) async {
        do {
            try await access.updateStatus(name) { object in
                guard object.phase == .inProgress, !running.contains(name) else { return false }
                object.status?.phase = .failed
                object.status?.failureReason =
                    "found in progress when the server started: the server running it stopped"
                object.status?.completionTimestamp = now()
                return true
            }
            logger.warning("\(noun) \(name) was left in progress by a server that stopped; marked Failed")
        } catch {
            logger.warning("\(noun) \(name): could not mark it Failed: \(error)")
        }
    }

    /// The object to run: New, not being deleted, and decodable. One that does not decode is FailedValidation
    /// with the field that is wrong (it never stops the server).
    func runnable(_ name: String) async throws -> K? {
        switch try await access.fetch(name) {
        case .missing: return nil
        case .malformed(let object, let reason):
            let phase = LoosePhase.of(object)
            guard phase.isEmpty || phase == RunPhase.new.rawValue else { return nil }
            var status = K.Status(phase: .failedValidation)
            status.validationErrors = ["the \(noun)'s spec is malformed: \(reason)"]
            try await access.patchStatus(
                name, resourceVersion: object.metadata.resourceVersion,
                status: Array(try Velero.encoder().encode(status)), as: K.self)
            metrics.validationFailed(
                kind: K.kind, schedule: object.metadata.labels?[Velero.scheduleNameLabel] ?? "")
            logger.warning("\(noun) \(name) is malformed: \(reason)")
            return nil
        case .object(let object):
            return object.phase == .new && object.metadata.deletionTimestamp == nil ? object : nil
        }
    }

    func failValidation(_ name: String, _ error: any Error) async throws {
        let reasons = (error as? ValidationErrors)?.reasons ?? ["\(error)"]
        var judged = false
        let written = try await access.updateStatus(name) { object in
            judged = object.phase == .new
            guard judged else { return false }
            var status = object.status ?? K.Status(phase: nil)
            status.phase = .failedValidation
            status.validationErrors = reasons
            object.status = status
            return true
        }
        if judged, let written { metrics.validationFailed(kind: K.kind, schedule: ServerMetrics.schedule(written)) }
        logger.info("\(noun) \(name) failed validation: \(reasons.joined(separator: "; "))")
    }

    /// Marks a New object InProgress (`configure` adds to the status) and runs `body`; does nothing when another
    /// writer got there first (its write moved the object on, so ours, naming the version it read, got 409 and the
    /// fresh read no longer shows New). The name is in `running` from before that write until `body` ends.
    func run(
        _ name: String, started: Date, configure: @escaping (inout K.Status) -> Void = { _ in },
        _ body: () async throws -> Void
    ) async throws {
        running.insert(name)
        defer { running.remove(name) }
        var ours = false
        let claimed = try await access.updateStatus(name) { object in
            ours = object.phase == .new
            guard ours else { return false }
            var status = object.status ?? K.Status(phase: nil)
            status.phase = .inProgress
            status.startTimestamp = started
            configure(&status)
            object.status = status
            return true
        }
        guard ours, let claimed, claimed.phase == .inProgress else { return }
        metrics.started(claimed)
        logger.info("\(noun) \(name) started")
        try await body()
    }

    /// Writes the final status of an InProgress object.
    func finish(_ name: String, _ outcome: @escaping (inout K.Status) -> Void) async throws {
        let completed = now()
        var ours = false
        let written = try await access.updateStatus(name) { object in
            ours = object.phase == .inProgress
            guard ours else { return false }
            var status = object.status ?? K.Status(phase: nil)
            status.completionTimestamp = completed
            outcome(&status)
            object.status = status
            return true
        }
        if ours, let written { metrics.finished(written) }
        logger.info("\(noun) \(name) \(written?.phase.rawValue ?? "is gone")")
    }

    /// A failure that is not the spec's: Failed with the reason.
    static func failed(_ status: inout K.Status, _ error: any Error) {
        status.phase = .failed
        status.failureReason = "\(error)"
        status.errors = 1
    }
}
