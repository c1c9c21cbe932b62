import BackupModel
import ChunkStore
import Foundation
import Logging
import SystemIO

/// Runs a backup: records it InProgress, collects, then commits the final record (Completed, or Failed with the
/// reason). A name that already exists is refused before anything is written.
public struct BackupPipeline: Sendable {
    public let collector: ResourceCollector
    /// Persistent volumes whose data is read at once (see `VolumeCollector`).
    public var volumeConcurrency: Int
    /// Volumes being backed up right now, and the most at once.
    public let volumesInFlight = ConcurrencyGauge()
    /// Backs up the pods' volumes through the node agents (the server's step; nil in the CLI's local mode). It
    /// runs beside resource collection with the backup's record and commit, and its volumes land in the record
    /// before the commit, so their snapshots expire with the backup. It calls the anchor's `ensureDurable()` before
    /// it asks for a snapshot.
    public var podVolumes:
        (
            @Sendable (_ record: BackupRecord, _ commit: String, _ anchor: ProgressAnchor) async throws ->
                PodVolumeOutcome
        )?
    /// Backs up a hostPath or local persistent volume on the node its affinity names (the server's node agents,
    /// when it is told to); nil reads every such volume at its path here.
    public var nodeVolumes: (@Sendable (_ volume: NodeVolume, _ commit: String) async -> VolumeRecord)?
    /// Runs just before the final record (any phase) is committed, after its last log line: where the run's log is
    /// stored (`Repository.writeVolatile`), so the record's own barrier makes the log durable with it. It must not
    /// throw: a log that cannot be stored does not fail the backup.
    public var beforeFinalRecord: (@Sendable () async -> Void)?

    public init(
        collector: ResourceCollector, volumeConcurrency: Int = VolumeCollector.defaultVolumeConcurrency,
        podVolumes: (
            @Sendable (_ record: BackupRecord, _ commit: String, _ anchor: ProgressAnchor) async throws ->
                PodVolumeOutcome
        )? = nil
    ) {
        self.collector = collector
        self.volumeConcurrency = volumeConcurrency
        self.podVolumes = podVolumes
    }

    public func run(_ request: BackupRecord) async throws -> BackupRecord {
        // Garbage collection cannot run while this lock is held, so no chunk this backup reuses can vanish.
        return try await StoreLock.withLock(
            .shared, repository: collector.repository, operation: "backup \(request.name)"
        ) {
            try await backup(request)
        }
    }

    private func backup(_ request: BackupRecord) async throws -> BackupRecord {
        let repository = collector.repository
        try ResourceName.validate(request.name, what: "backup name")
        if try await repository.record(BackupRecord.self, key: BackupRecord.key(request.name)) != nil {
            throw CollectorError.alreadyExists(request.name)
        }
        var record = request
        do {
            try request.filter.validate()
        } catch {
            record.phase = .failedValidation
            record.errors = [error.description]
            record.completionTimestamp = Date()
            await beforeFinalRecord?()
            try await repository.commitRecord(record, key: BackupRecord.key(record.name))
            throw error
        }
        record.phase = .inProgress
        let commit = CommitID.make()
        record.commit = commit
        record.lockID = StoreLock.currentLockID
        try await repository.writeProgressRecord(record, key: BackupRecord.key(record.name))
        let anchor = ProgressAnchor(repository: repository, key: BackupRecord.key(record.name))
        let logger = Logger(label: "velero-cas.backup")
        logger.info("backup \(record.name) started against \(record.cluster) into \(record.storageLocation)")
        do {
            // Volume data is read in parallel with resource collection; both commit before the final record.
            var volumes = VolumeCollector(
                client: collector.client, repository: repository, pathMap: record.volumePathMap,
                volumeConcurrency: volumeConcurrency, volumesInFlight: volumesInFlight)
            volumes.anchor = anchor
            if let nodeVolumes { volumes.nodeReader = { await nodeVolumes($0, commit) } }
            let snapshotVolumes = record.snapshotVolumes
            let name = record.name
            let filter = record.filter
            async let volumeRecords: [VolumeRecord] = {
                guard snapshotVolumes else { return [] }
                let all = filter.includeNamespaces.isEmpty || filter.includeNamespaces.contains("*")
                let selected = try await volumes.volumes(
                    namespaceSelected: { namespace in
                        (all || filter.includeNamespaces.contains { NamespacePattern.matches($0, namespace) })
                            && !filter.excludeNamespaces.contains { NamespacePattern.matches($0, namespace) }
                    }, allNamespaces: all)
                return await volumes.backup(selected, backupName: name, backupCommit: commit)
            }()
            let podVolumes = self.podVolumes
            let started = record
            async let podOutcome: PodVolumeOutcome = {
                guard let podVolumes else { return PodVolumeOutcome() }
                return try await podVolumes(started, commit, anchor)
            }()
            let manifest: ResourceManifest
            let summary: CollectionSummary
            do {
                (manifest, summary) = try await collector.collect(
                    name: record.name, filter: record.filter, commit: commit)
            } catch {
                // Volume snapshots that committed belong to this backup's record and expire with it.
                record.volumes = (try? await volumeRecords) ?? []
                record.volumes += (try? await podOutcome)?.volumes ?? []
                throw error
            }
            record.volumes = try await volumeRecords
            let pods = try await podOutcome
            record.volumes += pods.volumes
            record.hooks = pods.hooks.isEmpty ? nil : pods.hooks
            for warning in pods.warnings { logger.warning("\(warning)") }
            // The resource data's chunks, for reference counting (volume snapshots keep their own lists).
            var referenced = Set(manifest.streams.flatMap { $0.chunks.map(\.id) })
            if let manifestRecord = try await repository.record(
                ResourceManifestRecord.self, key: ResourceManifestRecord.key(record.name))
            {
                referenced.formUnion(manifestRecord.manifest.map(\.id))
            }
            try await ReferenceList.write(
                referenced, owner: .backup(record.name, commit: commit), repository: repository)
            record.phase = .completed
            record.resourceManifest = manifest.name
            record.summary = summary
            record.itemsBackedUp = manifest.objectCount
            record.warnings =
                manifest.warnings + pods.warnings
                + record.volumes.compactMap { volume in
                    guard volume.podVolume == nil else { return nil }
                    return volume.skipped.map { "persistent volume \(volume.persistentVolume): \($0)" }
                }
            // A chosen pod volume that could not be backed up is an error, as Velero counts it.
            record.errors += record.volumes.compactMap { volume in
                guard let pod = volume.podVolume, let reason = volume.skipped else { return nil }
                return "pod volume \(pod.display) on node \(pod.node): \(reason)"
            }
            // Hooks with onError Fail that failed (their pods' volumes were not backed up).
            record.errors += pods.errors
            if !pods.errors.isEmpty { record.phase = .partiallyFailed }
            if record.volumes.contains(where: {
                $0.skipped?.contains("failed") == true || ($0.podVolume != nil && $0.skipped != nil)
            }) {
                record.phase = .partiallyFailed
            }
        } catch {
            record.phase = .failed
            record.errors = ["\(error)"]
        }
        record.completionTimestamp = Date()
        // Into the backup's log (the warnings were logged where they arose).
        for error in record.errors { logger.error("backup \(record.name): \(error)") }
        for volume in record.volumes where volume.snapshot != nil {
            logger.info(
                "volume \(volume.podVolume.map { "\($0.display) on \($0.node)" } ?? volume.persistentVolume): \(volume.files) files, \(volume.logicalBytes) bytes, \(volume.newStoredBytes) new"
            )
        }
        logger.info(
            "backup \(record.name) \(record.phase.rawValue): \(record.itemsBackedUp) items, \(record.errors.count) errors, \(record.warnings.count) warnings"
        )
        await beforeFinalRecord?()
        try await repository.commitRecord(record, key: BackupRecord.key(record.name))
        return record
    }

    /// Records as people should see them: a backup whose record says InProgress but whose process's lock is gone or
    /// stale was left by a process that died, so it is shown Failed (garbage collection records that for good).
    public static func showingAbandoned(_ records: [BackupRecord], repository: Repository) async throws
        -> [BackupRecord]
    {
        guard records.contains(where: { $0.phase == .inProgress }) else { return records }
        let live = try await StoreLock.liveLockIDs(repository)
        return records.map { record in
            guard record.phase == .inProgress, !(record.lockID.map(live.contains) ?? false) else { return record }
            var shown = record
            shown.phase = .failed
            shown.errors.append("the process running the backup stopped (its store lock is gone or stale)")
            return shown
        }
    }
}
