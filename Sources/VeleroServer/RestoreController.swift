import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Operations
import Restorer
import VeleroAPI

/// Restores: a New Restore is validated (its spec, its backup: an existing Completed or PartiallyFailed Backup, or
/// the newest such backup of `scheduleName`), marked InProgress, run through `RestoreOperation` from the backup's
/// storage location, and finished with Velero's phase, counts, progress and failure reason. The restore's record
/// goes into the store as the CLI writes it, so `restore get/describe` show it and deleting the backup removes it.
struct RestoreController: Sendable {
    let server: VeleroServer
    let tracking: RunTracking<Restore>
    let backups: ObjectAccess<Backup>

    init(server: VeleroServer) {
        self.server = server
        tracking = RunTracking(server: server)
        backups = ObjectAccess(client: server.client, namespace: server.configuration.namespace)
    }

    var loop: ControllerLoop { tracking.loop(server) { try await process($0) } }

    func process(_ name: String) async throws {
        guard let restore = try await tracking.runnable(name) else { return }
        let started = server.configuration.now()

        let options: RestoreOptions
        let backupName: String
        let location: ResolvedLocation
        do {
            options = try SpecConversion.restoreOptions(restore, veleroNamespace: server.configuration.namespace).get()
            let backup = try await sourceBackup(restore.spec)
            backupName = backup?.name ?? restore.spec.backupName ?? ""
            if let backup, !(backup.phase == .completed || backup.phase == .partiallyFailed) {
                throw ValidationErrors([
                    "backup '\(backup.name)' is \(backup.phase.rawValue); only Completed or PartiallyFailed backups can be restored"
                ])
            }
            location = try await server.storage.resolve(backup?.spec.storageLocation, create: false)
        } catch {
            return try await tracking.failValidation(name, error)
        }
        // The restore's own log, stored with its record (`restore logs`): what its tasks log from here on.
        let log = RunLog()
        try await RunLog.$current.withValue(log) {
            try await run(name, restore, options: options, backupName: backupName, location, started, log)
        }
    }

    private func run(
        _ name: String, _ restore: Restore, options: RestoreOptions, backupName: String,
        _ location: ResolvedLocation, _ started: Date, _ log: RunLog
    ) async throws {
        try await tracking.run(name, started: started) {
            let podVolumes = PodVolumeRestoreStep(server: server, restore: restore, location: location)
            let operation = RestoreOperation(
                client: { [client = server.client] in client }, repository: location.repository,
                width: server.configuration.restoreWidth, podVolumes: podVolumes.restoring)
            let request = RestoreOperation.Request(
                name: name, backup: backupName, options: options, restoreVolumes: restore.spec.restorePVs ?? true,
                labels: restore.metadata.labels ?? [:], annotations: restore.metadata.annotations ?? [:])
            let outcome: Result<RestoreRecord, any Error>
            do {
                outcome = .success(try await operation.run(request, started: started, log: log))
            } catch {
                outcome = .failure(error)
            }
            try await tracking.finish(name) { status in
                switch outcome {
                case .success(let record):
                    status.phase = Restore.Phase(rawValue: record.phase.rawValue)
                    status.progress = Restore.Progress(
                        totalItems: record.items.count, itemsRestored: record.created + record.updated)
                    status.errors = record.errors.count
                    status.warnings = record.warnings.count
                    if record.phase == .failed { status.failureReason = record.errors.first }
                    if let hooks = record.hooks {
                        status.hookStatus = HookStatus(
                            hooksAttempted: hooks.count, hooksFailed: hooks.count { $0.failed })
                    }
                case .failure(let error) where error is RestoreValidationError || error is RestoreError:
                    status.phase = .failedValidation
                    status.validationErrors = ["\(error)"]
                case .failure(let error): RunTracking<Restore>.failed(&status, error)
                }
            }
        }
    }

    /// The Backup object the restore names, or the newest restorable backup of its schedule; nil when a named
    /// backup has no object (it may still be in the store, made by the CLI).
    private func sourceBackup(_ spec: Restore.Spec) async throws -> Backup? {
        if let schedule = spec.scheduleName, !schedule.isEmpty {
            let label = RestoreLabels.validValue(schedule)
            let candidates = try await backups.list(labelSelector: "\(Velero.scheduleNameLabel)=\(label)")
                .filter { $0.phase == .completed || $0.phase == .partiallyFailed }
            guard
                let newest = candidates.max(by: {
                    ($0.status?.startTimestamp ?? .distantPast) < ($1.status?.startTimestamp ?? .distantPast)
                })
            else { throw ValidationErrors(["schedule '\(schedule)' has no completed backup to restore"]) }
            return newest
        }
        return try await backups.get(spec.backupName ?? "")
    }
}
