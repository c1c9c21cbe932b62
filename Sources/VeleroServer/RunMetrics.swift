import KubeClient
import VeleroAPI

/// Where the Backup and Restore controllers' phase changes meet Velero's metrics: the kind decides the family.
extension ServerMetrics {
    /// The `schedule` label of a backup (its `velero.io/schedule-name` label) or a restore (its `scheduleName`).
    static func schedule(_ object: some RunKind) -> String {
        if let restore = object as? Restore { return restore.spec.scheduleName ?? "" }
        return object.metadata.labels?[Velero.scheduleNameLabel] ?? ""
    }

    /// A New object refused by validation (`kind` is the object's kind; a malformed one has no decoded value).
    func validationFailed(kind: String, schedule: String) {
        if kind == Restore.kind {
            // Velero counts a restore's attempt before validating it.
            restoreAttempt(schedule: schedule)
            restoreValidationFailed(schedule: schedule)
        } else {
            backupValidationFailed(schedule: schedule)
        }
    }

    /// A valid object that this server has claimed (now InProgress).
    func started(_ object: some RunKind) {
        let schedule = Self.schedule(object)
        if object is Restore { restoreAttempt(schedule: schedule) } else { backupAttempt(schedule: schedule) }
    }

    /// An object whose final status was written.
    func finished(_ object: some RunKind) {
        let schedule = Self.schedule(object)
        let phase = object.phase.rawValue
        if object is Restore { return restoreFinished(schedule: schedule, phase: phase) }
        let status = object.status
        backupFinished(
            schedule: schedule, phase: phase, started: status?.startTimestamp, completed: status?.completionTimestamp,
            items: (object as? Backup)?.status?.progress?.totalItems, errors: status?.errors ?? 0,
            warnings: status?.warnings ?? 0)
    }
}
