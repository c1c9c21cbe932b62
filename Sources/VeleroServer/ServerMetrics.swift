import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The server's metrics under Velero's names and labels (Velero's pkg/metrics), so dashboards and alerts written
/// for Velero work: counters of backup, restore and deletion attempts and outcomes, the backup duration histogram
/// (Velero's buckets: 1m … 4h), the last backup's item and error counts, the last successful backup's time, and the
/// number of Backup and Restore objects, each location's status and each schedule's interval. Every series carries the `schedule` label: the name of the schedule that
/// made the backup (`velero.io/schedule-name`), or "" for one made by hand; a restore's is its `scheduleName`.
///
/// Metrics are made through swift-metrics on a factory of this server's own Prometheus registry (not the global
/// `MetricsSystem`), so several servers in one process (tests) keep separate counts. Only the leader's controllers
/// move them; a standby replica serves zeros. `velero_backup_tarball_size_bytes` is not served: velero-cas writes no
/// tarball (a backup's size in the store depends on what it shares with other backups).
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let initialized = Mutex<Set<String>>([])

    static let durationBuckets: [Double] = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["velero_backup_duration_seconds"] = Self.durationBuckets
        self.factory = factory
        initSchedule("")
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private func counter(_ name: String, _ schedule: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "velero_" + name, dimensions: [("schedule", schedule)], factory: factory)
    }

    private func gauge(_ name: String, _ schedule: String?) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(
            label: "velero_" + name, dimensions: schedule.map { [("schedule", $0)] } ?? [], factory: factory)
    }

    static let scheduleCounters = [
        "backup_attempt_total", "backup_success_total", "backup_partial_failure_total", "backup_failure_total",
        "backup_validation_failure_total", "backup_deletion_attempt_total", "backup_deletion_success_total",
        "backup_deletion_failure_total", "backup_warning_total", "restore_attempt_total", "restore_success_total",
        "restore_partial_failure_total", "restore_failed_total", "restore_validation_failed_total",
    ]

    /// Makes a schedule's series exist, at zero and its last status at 1 (Velero's InitSchedule), so rates work
    /// from the first scrape; once per schedule, later calls change nothing.
    public func initSchedule(_ schedule: String) {
        guard initialized.withLock({ $0.insert(schedule).inserted }) else { return }
        for name in Self.scheduleCounters { counter(name, schedule).increment(by: 0) }
        gauge("backup_items_total", schedule).record(0 as Int)
        gauge("backup_items_errors", schedule).record(0 as Int)
        gauge("backup_last_status", schedule).record(1 as Int)
    }

    // MARK: Backups

    func backupAttempt(schedule: String) { counter("backup_attempt_total", schedule).increment() }

    func backupValidationFailed(schedule: String) {
        counter("backup_validation_failure_total", schedule).increment()
        gauge("backup_last_status", schedule).record(0 as Int)
    }

    /// A backup's final phase, as Velero counts it: the outcome counter, the last status (1 only for Completed),
    /// the duration, the item and error counts, and the warning counter when it had warnings.
    func backupFinished(
        schedule: String, phase: String, started: Date?, completed: Date?, items: Int?, errors: Int, warnings: Int
    ) {
        switch phase {
        case "Completed":
            counter("backup_success_total", schedule).increment()
            if let completed { backupSucceeded(schedule: schedule, at: completed) }
        case "PartiallyFailed": counter("backup_partial_failure_total", schedule).increment()
        default: counter("backup_failure_total", schedule).increment()
        }
        gauge("backup_last_status", schedule).record(phase == "Completed" ? 1 : 0)
        if let started, let completed {
            CoreMetrics.Recorder(
                label: "velero_backup_duration_seconds", dimensions: [("schedule", schedule)], aggregate: true,
                factory: factory
            ).record(max(0, completed.timeIntervalSince(started)))
        }
        if let items { gauge("backup_items_total", schedule).record(items) }
        gauge("backup_items_errors", schedule).record(errors)
        if warnings > 0 { counter("backup_warning_total", schedule).increment() }
    }

    /// Sets the schedule's last successful backup time (Unix seconds).
    func backupSucceeded(schedule: String, at time: Date) {
        gauge("backup_last_successful_timestamp", schedule).record(time.timeIntervalSince1970.rounded(.down))
    }

    func setBackupTotal(_ count: Int) { gauge("backup_total", nil).record(count) }

    // MARK: Locations and schedules

    /// `velero_backup_location_status_gauge`: 1 while the location is Available, 0 while Unavailable.
    func setLocationStatus(_ location: String, available: Bool) {
        CoreMetrics.Gauge(
            label: "velero_backup_location_status_gauge", dimensions: [("backup_location_name", location)],
            factory: factory
        ).record(available ? 1 : 0)
    }

    /// `velero_schedule_expected_interval_seconds`: the time between two of the schedule's runs.
    func setScheduleInterval(_ schedule: String, seconds: Double) {
        gauge("schedule_expected_interval_seconds", schedule).record(seconds)
    }

    // MARK: Restores

    func restoreAttempt(schedule: String) { counter("restore_attempt_total", schedule).increment() }

    func restoreValidationFailed(schedule: String) {
        counter("restore_validation_failed_total", schedule).increment()
    }

    func restoreFinished(schedule: String, phase: String) {
        switch phase {
        case "Completed": counter("restore_success_total", schedule).increment()
        case "PartiallyFailed": counter("restore_partial_failure_total", schedule).increment()
        default: counter("restore_failed_total", schedule).increment()
        }
    }

    func setRestoreTotal(_ count: Int) { gauge("restore_total", nil).record(count) }

    // MARK: Deletions

    func deletionAttempt(schedule: String) { counter("backup_deletion_attempt_total", schedule).increment() }

    func deletionFinished(schedule: String, succeeded: Bool) {
        counter(succeeded ? "backup_deletion_success_total" : "backup_deletion_failure_total", schedule).increment()
    }
}
