import BackupModel
import ChunkStore
import Collectors
import Foundation
import GarbageCollector
import KubeClient
import Restorer
import VeleroAPI

/// DeleteBackupRequests, as Velero processes them: the request goes InProgress and the Backup Deleting; the
/// backup's data leaves its store through the garbage collector (its chunks that nothing else references, its
/// record, log and restore records); its Restore objects and the Backup object are deleted; the request ends
/// Processed, with the errors met on the way. Expired backups get such a request every
/// `garbageCollectionFrequency`.
struct DeletionController: Sendable {
    let server: VeleroServer
    let requests: ObjectAccess<DeleteBackupRequest>
    let backups: ObjectAccess<Backup>
    let restores: ObjectAccess<Restore>
    let queue = WorkQueue()

    init(server: VeleroServer) {
        self.server = server
        let (client, namespace) = (server.client, server.configuration.namespace)
        requests = ObjectAccess(client: client, namespace: namespace)
        backups = ObjectAccess(client: client, namespace: namespace)
        restores = ObjectAccess(client: client, namespace: namespace)
    }

    var loop: ControllerLoop {
        // One at a time: deletions take the store's exclusive lock anyway.
        .queueingAll(server, resource: DeleteBackupRequest.resource, queue: queue, workers: 1) {
            try await process($0)
        }
    }

    func process(_ name: String) async throws {
        guard let request = try await requests.get(name), request.phase != .processed else { return }
        try await requests.updateStatus(name) { request in
            guard request.phase != .processed else { return false }
            request.status = DeleteBackupRequest.Status(phase: .inProgress)
            return true
        }
        let backupName = request.spec.backupName
        let schedule = (try? await backups.get(backupName))?.metadata.labels?[Velero.scheduleNameLabel] ?? ""
        server.metrics.deletionAttempt(schedule: schedule)
        var errors: [String] = []
        do {
            errors = try await delete(backupName)
        } catch {
            errors.append("\(error)")
        }
        try await requests.updateStatus(name) { request in
            request.status = DeleteBackupRequest.Status(phase: .processed, errors: errors.isEmpty ? nil : errors)
            return true
        }
        server.metrics.deletionFinished(schedule: schedule, succeeded: errors.isEmpty)
        if errors.isEmpty {
            server.logger.info("backup \(backupName) deleted (request \(name))")
        } else {
            server.logger.warning("deleting backup \(backupName) (request \(name)): \(errors.joined(separator: "; "))")
        }
    }

    /// Deletes the backup's data, restores and object; returns what went wrong (nothing is deleted from the
    /// cluster when the data could not be).
    private func delete(_ backupName: String) async throws -> [String] {
        let backup = try await backups.get(backupName)
        if let backup, backup.phase == .inProgress || backup.phase == .new {
            return ["backup \(backupName) is \(backup.phase.rawValue); it can be deleted once it has finished"]
        }
        // Before the backup is marked Deleting: a read-only location refuses and leaves it as it was.
        let location = try await server.storage.resolve(backup?.spec.storageLocation, create: false)
        if location.readOnly {
            return ["backup storage location '\(location.name)' has accessMode ReadOnly: the backup's data stays"]
        }
        if backup != nil {
            try await backups.updateStatus(backupName) { backup in
                guard backup.phase != .deleting else { return false }
                var status = backup.status ?? Backup.Status()
                status.phase = .deleting
                backup.status = status
                return true
            }
        }
        let repository = location.repository
        if try await repository.record(BackupRecord.self, key: BackupRecord.key(backupName)) != nil {
            _ = try await GarbageCollector(repository: repository).run(delete: [backupName])
        } else {
            // A backup that failed before it had a record may still have left its log.
            try await repository.store.delete(BackupRecord.logKey(backupName))
        }
        for restore in try await restores.list() where restore.spec.backupName == backupName {
            try await deleteObject(Restore.resource, restore.name)
        }
        if backup != nil { try await deleteObject(Backup.resource, backupName) }
        return []
    }

    private func deleteObject(_ resource: APIResource, _ name: String) async throws {
        do {
            try await server.client.delete(resource, namespace: server.configuration.namespace, name: name)
        } catch let error as KubeAPIError where error.isNotFound {}
    }

    /// Every `garbageCollectionFrequency`: each backup past its expiration gets a DeleteBackupRequest, unless one
    /// is already pending for it.
    func expireLoop() async {
        await server.repeating(every: server.configuration.garbageCollectionFrequency, "garbage collection") {
            try await expireOnce()
        }
    }

    /// One pass of expiry; returns the backups a request was made for.
    @discardableResult
    func expireOnce() async throws -> [String] {
        let now = server.configuration.now()
        var requested: [String] = []
        for backup in try await backups.list() {
            guard let expiration = backup.status?.expiration, expiration < now,
                backup.phase != .new, backup.phase != .inProgress, backup.phase != .deleting
            else { continue }
            // Label values hold 63 characters: longer names are shortened as Velero shortens them.
            let label = RestoreLabels.validValue(backup.name)
            let pending = try await requests.list(labelSelector: "\(Velero.backupNameLabel)=\(label)")
                .filter { $0.phase != .processed }
            guard pending.isEmpty else { continue }
            var request = DeleteBackupRequest(
                backupName: backup.name, backupUID: backup.metadata.uid, namespace: server.configuration.namespace)
            request.metadata.labels?[Velero.backupNameLabel] = label
            try await server.client.create(
                DeleteBackupRequest.resource, namespace: server.configuration.namespace, json: try request.encoded())
            server.logger.info("backup \(backup.name) expired at \(KubeTime.format(expiration)); deletion requested")
            requested.append(backup.name)
        }
        return requested
    }
}
