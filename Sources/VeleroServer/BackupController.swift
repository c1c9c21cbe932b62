import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Operations
import VeleroAPI

/// Backups: a New Backup is validated (FailedValidation with every reason), marked InProgress with its start and
/// expiration, run through `BackupOperation` into the store its storage location names, with progress written at
/// most once per `progressInterval`, and finished with Velero's final phase, counts and failure reason.
struct BackupController: Sendable {
    let server: VeleroServer
    let tracking: RunTracking<Backup>

    init(server: VeleroServer) {
        self.server = server
        tracking = RunTracking(server: server)
    }

    var loop: ControllerLoop { tracking.loop(server) { try await process($0) } }

    func process(_ name: String) async throws {
        guard let backup = try await tracking.runnable(name) else { return }
        // Made by backup sync from a stored backup: nothing to run (sync writes its status).
        if backup.metadata.annotations?[BackupSync.syncedAnnotation] != nil { return }
        let now = server.configuration.now()
        // Validation: the spec, the location and the store.
        let location: ResolvedLocation
        let request: BackupRecord
        do {
            location = try await server.storage.resolve(backup.spec.storageLocation, create: true)
            if location.readOnly {
                throw ValidationErrors([
                    "backup storage location '\(location.name)' has accessMode ReadOnly: backups cannot be written to it"
                ])
            }
            let converted = SpecConversion.backupRequest(
                backup, storageLocation: location.name, cluster: server.client.configuration.server,
                defaultTTL: server.configuration.defaultBackupTTL, now: now)
            var reasons: [String] = []
            if case .failure(let specErrors) = converted { reasons = specErrors.reasons }
            if case .failure(let hookErrors) = BackupHookRules.parse(backup.spec.hooks) {
                reasons += hookErrors.reasons
            }
            guard reasons.isEmpty else { throw ValidationErrors(reasons) }
            request = try converted.get()
            if try await location.repository.record(BackupRecord.self, key: BackupRecord.key(name)) != nil {
                throw ValidationErrors([
                    "a backup named '\(name)' already exists in storage location '\(location.name)'"
                ])
            }
        } catch {
            return try await tracking.failValidation(name, error)
        }
        // The backup's own log, stored beside it (`backup logs`): what its tasks log from here on.
        let log = RunLog()
        try await RunLog.$current.withValue(log) { try await run(name, backup, request, location, now, log) }
    }

    private func run(
        _ name: String, _ backup: Backup, _ request: BackupRecord, _ location: ResolvedLocation, _ now: Date,
        _ log: RunLog
    ) async throws {
        try await tracking.run(name, started: now) { status in
            status.version = 1
            status.formatVersion = "1.1.0"
            status.expiration = request.expiration
            status.progress = Backup.Progress(totalItems: 0, itemsBackedUp: 0)
        } _: {
            let progress = CollectionProgress()
            let podVolumes = PodVolumeStep(server: server, backup: backup, location: location)
            var onNode: (@Sendable (NodeVolume, String) async -> VolumeRecord)?
            if server.configuration.hostPathVolumesOnNodeAgents {
                onNode = { await podVolumes.backUpOnNode($0, commit: $1) }
            }
            let operation = BackupOperation(
                client: server.client, repository: location.repository, width: server.configuration.collectorWidth,
                progress: progress, podVolumes: { try await podVolumes.run($0, commit: $1, anchor: $2) },
                nodeVolumes: onNode)
            let outcome: Result<BackupRecord, any Error> = await withTaskGroup(of: Void.self) { group in
                group.addTask { await reportProgress(name, progress) }
                let outcome: Result<BackupRecord, any Error>
                do { outcome = .success(try await operation.run(request, log: log)) } catch {
                    outcome = .failure(error)
                }
                group.cancelAll()
                return outcome
            }
            try await tracking.finish(name) { status in
                switch outcome {
                case .success(let record):
                    status.phase = Backup.Phase(rawValue: record.phase.rawValue)
                    status.progress = Backup.Progress(
                        totalItems: record.itemsBackedUp, itemsBackedUp: record.itemsBackedUp)
                    status.errors = record.errors.count
                    status.warnings = record.warnings.count
                    status.expiration = record.expiration
                    if record.phase == .failed { status.failureReason = record.errors.first }
                    status.volumeSnapshotsAttempted = record.volumes.count
                    status.volumeSnapshotsCompleted = record.volumes.count { $0.snapshot != nil }
                    if let hooks = record.hooks {
                        status.hookStatus = HookStatus(
                            hooksAttempted: hooks.count, hooksFailed: hooks.count { $0.failed })
                    }
                case .failure(let error): RunTracking<Backup>.failed(&status, error)
                }
            }
        }
    }

    /// Writes the collected item count while the backup runs, at most once per interval and only when it moved.
    private func reportProgress(_ name: String, _ progress: CollectionProgress) async {
        var written = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: server.configuration.progressInterval)
            let items = progress.objects
            guard !Task.isCancelled, items != written else { continue }
            written = items
            _ = try? await tracking.access.updateStatus(name) { backup in
                guard backup.phase == .inProgress else { return false }
                backup.status?.progress = Backup.Progress(totalItems: items, itemsBackedUp: items)
                return true
            }
        }
    }
}
