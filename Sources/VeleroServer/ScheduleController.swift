import Foundation
import KubeClient
import Restorer
import VeleroAPI

/// Schedules, as Velero runs them: each is validated on every look (FailedValidation with the reasons, else
/// Enabled) and looked at whenever it changes and every `scheduleCheckInterval`. A schedule is due when now is past
/// the cron's next run after its last backup (or its creation, or its last skip when later); missed runs are not
/// caught up. When due and not paused, and no backup of it is New or InProgress, it gets a Backup named
/// `<schedule>-<yyyyMMddHHmmss>` (UTC) from its template, labelled `velero.io/schedule-name`, and `lastBackup`.
/// `skipImmediately: true` skips the run due now: it records `lastSkipped` and is reset to false, as Velero does.
struct ScheduleController: Sendable {
    let server: VeleroServer
    let schedules: ObjectAccess<Schedule>
    let backups: ObjectAccess<Backup>
    let queue = WorkQueue()

    init(server: VeleroServer) {
        self.server = server
        schedules = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
        backups = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
    }

    var loop: ControllerLoop {
        ControllerLoop(
            watcher: ResourceWatcher(
                client: server.client, resource: Schedule.resource, namespace: server.configuration.namespace,
                logger: server.logger),
            queue: queue, workers: 1, listed: { for object in $0 { await queue.add(object.name) } },
            process: { try await process($0) })
    }

    /// Every interval, every schedule is looked at again (time passes without any object changing).
    func tickLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: server.configuration.scheduleCheckInterval)
            guard let all = try? await schedules.list() else { continue }
            for schedule in all { await queue.add(schedule.name) }
        }
    }

    /// The reasons a schedule is invalid (its cron expression, its backup template), or its parsed cron.
    func validate(_ schedule: Schedule) -> Result<CronSchedule, ValidationErrors> {
        var reasons: [String] = []
        var cron: CronSchedule?
        do { cron = try CronSchedule(parsing: schedule.spec.schedule) } catch { reasons.append(error.description) }
        var template = Backup(name: schedule.name, namespace: server.configuration.namespace)
        template.spec = schedule.spec.template
        if case .failure(let errors) = SpecConversion.backupRequest(
            template, storageLocation: "", cluster: "", defaultTTL: 0, now: Date())
        {
            reasons += errors.reasons
        }
        guard let cron, reasons.isEmpty else { return .failure(ValidationErrors(reasons)) }
        return .success(cron)
    }

    func process(_ name: String) async throws {
        let schedule: Schedule
        switch try await schedules.fetch(name) {
        case .missing: return
        case .malformed(let object, let reason):
            var status = Schedule.Status(phase: .failedValidation)
            status.validationErrors = ["the schedule's spec is malformed: \(reason)"]
            guard LoosePhase.of(object) != Schedule.Phase.failedValidation.rawValue else { return }
            try await schedules.patchStatus(
                name, resourceVersion: object.metadata.resourceVersion,
                status: Array(try Velero.encoder().encode(status)), as: Schedule.self)
            return
        case .object(let object): schedule = object
        }
        guard schedule.metadata.deletionTimestamp == nil else { return }
        let now = server.configuration.now()
        let validation = validate(schedule)
        let skipNow = schedule.spec.skipImmediately == true
        try await schedules.updateStatus(name) { schedule in
            var status = schedule.status ?? Schedule.Status()
            let before = status
            switch validation {
            case .success:
                status.phase = .enabled
                status.validationErrors = nil
            case .failure(let errors):
                status.phase = .failedValidation
                status.validationErrors = errors.reasons
            }
            if skipNow { status.lastSkipped = now }
            schedule.status = status
            return status != before
        }
        if skipNow {
            try await server.client.mergePatch(
                Schedule.resource, namespace: server.configuration.namespace, name: name,
                patch: Array(#"{"spec":{"skipImmediately":false}}"#.utf8))
            return
        }
        if case .success(let cron) = validation {
            let next = cron.next(after: now)
            server.metrics.setScheduleInterval(name, seconds: cron.next(after: next).timeIntervalSince(next))
        }
        guard case .success(let cron) = validation, schedule.spec.paused != true else { return }
        let created = schedule.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? now
        var base = schedule.status?.lastBackup ?? created
        if let skipped = schedule.status?.lastSkipped, skipped > base { base = skipped }
        guard now > cron.next(after: base) else { return }
        let running = try await backups.list(
            labelSelector: "\(Velero.scheduleNameLabel)=\(RestoreLabels.validValue(name))"
        )
        .contains { $0.phase == .new || $0.phase == .inProgress }
        if running {
            server.logger.info("schedule \(name) is due but a backup of it is still running; skipped")
            return
        }
        let backupName = try await createBackup(schedule, at: now)
        try await schedules.updateStatus(name) { schedule in
            schedule.status = schedule.status ?? Schedule.Status(phase: .enabled)
            schedule.status?.lastBackup = now
            return true
        }
        server.logger.info("schedule \(name): backup \(backupName) created")
    }

    /// The schedule's backup (`Schedule.backupJSON`), created; one that exists already is left as it is.
    private func createBackup(_ schedule: Schedule, at now: Date) async throws -> String {
        let name = schedule.timestampedName(now)
        let json = try schedule.backupJSON(
            named: name, namespace: server.configuration.namespace,
            scheduleLabel: RestoreLabels.validValue(schedule.name))
        do {
            try await server.client.create(Backup.resource, namespace: server.configuration.namespace, json: json)
        } catch let error as KubeAPIError where error.isAlreadyExists {}
        return name
    }
}
