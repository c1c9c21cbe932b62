import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import VeleroAPI

/// Backup sync, as Velero's backup sync controller does it: every `backupSyncPeriod` (or the location's own
/// `spec.backupSyncPeriod`; 0 turns it off) the backups in each available location's store that have no Backup
/// object get one, built from the stored record (phase, times, expiration, counts, the spec's filters) and labelled
/// `velero.io/storage-location`, so a cluster pointed at a store it did not write can restore from it (migration,
/// disaster recovery). A Completed Backup labelled with the location whose data is gone from the store is deleted.
/// Backups still running (InProgress in the store) wait for a later pass.
struct BackupSync: Sendable {
    /// Marks a Backup object made by sync, so the backup controller never takes it for a new backup to run (a real
    /// API server drops the status a create carries when the status subresource is on).
    static let syncedAnnotation = "velero-cas.io/synced-from-store"

    let server: VeleroServer
    let locations: ObjectAccess<BackupStorageLocation>
    let backups: ObjectAccess<Backup>

    init(server: VeleroServer) {
        self.server = server
        let (client, namespace) = (server.client, server.configuration.namespace)
        locations = ObjectAccess(client: client, namespace: namespace)
        backups = ObjectAccess(client: client, namespace: namespace)
    }

    /// Runs until cancelled, looking at the locations every second at most.
    func loop() async {
        await server.repeating(every: min(server.configuration.backupSyncPeriod, .seconds(1)), "backup sync") {
            try await syncDue()
        }
    }

    /// Syncs every location that is due, the default one first; returns the Backup objects created.
    @discardableResult
    func syncDue() async throws -> [String] {
        let now = server.configuration.now()
        var created: [String] = []
        let all = try await locations.list().sorted {
            ($0.spec.default == true ? 0 : 1) < ($1.spec.default == true ? 0 : 1)
        }
        for location in all where location.status?.phase != .unavailable {
            guard
                let period = LocationValidation.period(
                    location.spec.backupSyncPeriod, default: server.configuration.backupSyncPeriod)
            else { continue }
            if let last = location.status?.lastSyncedTime, now < last.addingTimeInterval(period) { continue }
            do {
                created += try await sync(location.name)
            } catch {
                if Task.isCancelled { throw error }
                server.logger.warning("backup sync of location \(location.name): \(error)")
                continue
            }
            try await locations.updateStatus(location.name) { location in
                var status = location.status ?? BackupStorageLocation.Status()
                status.lastSyncedTime = now
                location.status = status
                return true
            }
        }
        return created
    }

    /// One location: creates the missing Backup objects and deletes the orphaned ones.
    func sync(_ locationName: String) async throws -> [String] {
        let location: ResolvedLocation
        do {
            location = try await server.storage.resolve(locationName, create: false)
        } catch ChunkStoreError.repositoryNotFound {
            return []  // No store yet: no backups in it.
        }
        let repository = location.repository
        // The cluster first, then the store: a backup Completed in the cluster's list committed its record before,
        // so the store's list has it (the other order could take a backup finishing between them for an orphan).
        let inCluster = try await backups.list()
        var stored: Set<String> = []
        for object in try await repository.store.listAll(prefix: "backups/") where object.key.hasSuffix(".json") {
            stored.insert(String(object.key.dropFirst("backups/".count).dropLast(".json".count)))
        }
        let names = Set(inCluster.map(\.name))
        var created: [String] = []
        for name in stored.subtracting(names).sorted() {
            // One record the store cannot give or the API server refuses is skipped with a warning: the names after
            // it, and the orphans below, are still synced (it would otherwise fail every pass the same way).
            do {
                guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) else {
                    continue
                }
                guard record.phase != .inProgress, record.phase != .new else { continue }
                if try await create(record, location: locationName) { created.append(name) }
            } catch let error where Self.skipsOneRecord(error) {
                server.logger.warning("backup sync of location \(locationName): backup \(name) skipped: \(error)")
            }
        }
        if !created.isEmpty {
            server.logger.info(
                "backup sync: \(created.count) backups of location \(locationName) synced into the cluster")
        }
        try await repairUnfinished(inCluster, stored: stored, repository: repository)
        try await deleteOrphans(inCluster, stored: stored, location: locationName)
        return created
    }

    /// Whether `error`, met syncing one stored backup, concerns that backup alone: its record is damaged, or the
    /// API server refused its object (422 Invalid, 400). Transport failures, throttling and server errors end the
    /// pass, which the next period retries.
    static func skipsOneRecord(_ error: any Error) -> Bool {
        switch error {
        case let error as ChunkStoreError: return error.isDamagedRecord
        case let error as KubeAPIError: return error.code == 400 || error.code == 422
        default: return false
        }
    }

    /// Creates the Backup object of a stored backup and writes its status; false when it exists already.
    private func create(_ record: BackupRecord, location: String) async throws -> Bool {
        let namespace = server.configuration.namespace
        var backup = Self.object(for: record, location: location, namespace: namespace)
        let created: KubeObject
        do {
            created = try await server.client.create(Backup.resource, namespace: namespace, json: try backup.encoded())
        } catch let error as KubeAPIError where error.isAlreadyExists {
            return false
        }
        backup.metadata.resourceVersion = created.metadata.resourceVersion
        if (try? Backup.decode(created.json))?.status != backup.status {
            try await backups.patchStatus(
                record.name, resourceVersion: created.metadata.resourceVersion,
                status: Array(try Velero.encoder().encode(backup.status)), as: Backup.self)
        }
        return true
    }

    /// A synced Backup whose status write was lost (the server stopped between create and write) gets it now.
    private func repairUnfinished(_ inCluster: [Backup], stored: Set<String>, repository: Repository) async throws {
        for backup in inCluster
        where backup.metadata.annotations?[Self.syncedAnnotation] != nil && backup.phase == .new
            && stored.contains(backup.name)
        {
            guard let record = try await repository.record(BackupRecord.self, key: BackupRecord.key(backup.name))
            else { continue }
            let status = Self.object(
                for: record, location: backup.spec.storageLocation ?? "", namespace: server.configuration.namespace
            ).status
            try await backups.updateStatus(backup.name) { backup in
                guard backup.phase == .new else { return false }
                backup.status = status
                return true
            }
        }
    }

    /// Velero's rule: a Completed Backup of this location whose record is gone from the store was deleted from the
    /// store (through another cluster, by `backup delete`): its object goes too. Velero knows a backup's location by
    /// the label its backup controller puts on it; here the label (synced backups) or an explicit
    /// `spec.storageLocation` say it. A backup that named no location is left alone: which location is the default
    /// may have changed since it ran.
    private func deleteOrphans(_ inCluster: [Backup], stored: Set<String>, location: String) async throws {
        let label = RestoreLabels.validValue(location)
        func inLocation(_ backup: Backup) -> Bool {
            if let labelled = backup.metadata.labels?[Velero.storageLocationLabel] { return labelled == label }
            return backup.spec.storageLocation == location
        }
        for backup in inCluster where backup.phase == .completed && !stored.contains(backup.name) && inLocation(backup)
        {
            do {
                try await server.client.delete(
                    Backup.resource, namespace: server.configuration.namespace, name: backup.name)
                server.logger.info("backup sync: backup \(backup.name) is gone from location \(location); deleted")
            } catch let error as KubeAPIError where error.isNotFound {}
        }
    }

    /// The Backup object a stored record stands for.
    static func object(for record: BackupRecord, location: String, namespace: String) -> Backup {
        var spec = Backup.Spec()
        let filter = record.filter
        spec.setLists(from: filter)
        spec.labelSelector = filter.labelSelector.flatMap(equalitySelector)
        spec.snapshotVolumes = record.snapshotVolumes
        spec.ttl = record.ttlSeconds.map { KubeDuration.format(seconds: $0) }
        spec.storageLocation = location
        spec.volumeSnapshotLocations = record.volumeSnapshotLocations

        var backup = Backup(name: record.name, namespace: namespace, spec: spec)
        var labels = record.labels
        labels[Velero.storageLocationLabel] = RestoreLabels.validValue(location)
        backup.metadata.labels = labels
        var annotations = record.annotations
        annotations[syncedAnnotation] = "true"
        backup.metadata.annotations = annotations

        var status = Backup.Status(phase: Backup.Phase(rawValue: record.phase.rawValue))
        status.version = 1
        status.formatVersion = "1.1.0"
        status.startTimestamp = record.startTimestamp
        status.completionTimestamp = record.completionTimestamp
        status.expiration = record.expiration
        status.progress = Backup.Progress(totalItems: record.itemsBackedUp, itemsBackedUp: record.itemsBackedUp)
        status.errors = record.errors.count
        status.warnings = record.warnings.count
        if record.phase == .failed { status.failureReason = record.errors.first }
        status.volumeSnapshotsAttempted = record.volumes.count
        status.volumeSnapshotsCompleted = record.volumes.count { $0.snapshot != nil }
        backup.status = status
        return backup
    }

    /// `a=b,c=d` as matchLabels; nil for a selector with other operators (the record keeps it; the object shows
    /// only what matchLabels can say).
    private static func equalitySelector(_ text: String) -> LabelSelectorSpec? {
        var labels: [String: String] = [:]
        for term in text.split(separator: ",") {
            let parts = term.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].hasSuffix("!") else { return nil }
            labels[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return labels.isEmpty ? nil : LabelSelectorSpec(matchLabels: labels)
    }
}
