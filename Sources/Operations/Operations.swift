import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Logging
import Restorer

/// A backup, as the CLI's local mode and the server's controllers both run it: collect the selected resources and
/// volumes of a cluster into a store and commit the record.
public struct BackupOperation: Sendable {
    public var client: KubeClient
    public var repository: Repository
    /// Concurrent resource collectors.
    public var width: Int
    /// Persistent volumes backed up at once.
    public var volumeConcurrency: Int
    public var progress: CollectionProgress
    /// The pods' volumes through the node agents (see `BackupPipeline.podVolumes`); nil in the CLI's local mode.
    public var podVolumes:
        (
            @Sendable (_ record: BackupRecord, _ commit: String, _ anchor: ProgressAnchor) async throws ->
                PodVolumeOutcome
        )?
    /// hostPath and local persistent volumes on their node (see `BackupPipeline.nodeVolumes`); nil reads them here.
    public var nodeVolumes: (@Sendable (_ volume: NodeVolume, _ commit: String) async -> VolumeRecord)?
    /// Runs just before the final record is committed (see `BackupPipeline.beforeFinalRecord`): where
    /// `run(_:log:)` stores the run's log.
    public var beforeFinalRecord: (@Sendable () async -> Void)?

    public init(
        client: KubeClient, repository: Repository, width: Int = 8, volumeConcurrency: Int = 2,
        progress: CollectionProgress,
        podVolumes: (
            @Sendable (_ record: BackupRecord, _ commit: String, _ anchor: ProgressAnchor) async throws ->
                PodVolumeOutcome
        )? = nil,
        nodeVolumes: (@Sendable (_ volume: NodeVolume, _ commit: String) async -> VolumeRecord)? = nil
    ) {
        self.podVolumes = podVolumes
        self.nodeVolumes = nodeVolumes
        self.client = client
        self.repository = repository
        self.width = width
        self.volumeConcurrency = volumeConcurrency
        self.progress = progress
    }

    /// Runs the backup to its final record (Completed, PartiallyFailed or Failed); throws when it could not start
    /// (invalid request, a name that exists, the store lock).
    public func run(_ request: BackupRecord) async throws -> BackupRecord {
        let collector = ResourceCollector(client: client, repository: repository, width: width, progress: progress)
        var pipeline = BackupPipeline(
            collector: collector, volumeConcurrency: volumeConcurrency, podVolumes: podVolumes)
        pipeline.nodeVolumes = nodeVolumes
        pipeline.beforeFinalRecord = beforeFinalRecord
        return try await pipeline.run(request)
    }
}

/// Why a restore could not start: the request is invalid, or the backup cannot be restored. Velero keeps such a
/// restore as FailedValidation.
public struct RestoreValidationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A restore, as the CLI's local mode and the server's controllers both run it: check the request and the backup,
/// restore objects and volumes, and commit the restore's record beside the backup's.
public struct RestoreOperation: Sendable {
    /// Made only once the request and the backup have been checked, so a bad request fails on what is wrong with
    /// it, not on a missing kubeconfig.
    public var client: @Sendable () async throws -> KubeClient
    public var repository: Repository
    /// Objects applied at once within a priority tier.
    public var width: Int
    public var volumePathMap: VolumePathMap
    /// Persistent volumes restored at once.
    public var volumeConcurrency: Int
    /// Pod volume data through the node agents (see `RestorePipeline.podVolumes`); nil in the CLI's local mode.
    public var podVolumes: PodVolumeRestoring?

    public init(
        client: @escaping @Sendable () async throws -> KubeClient, repository: Repository, width: Int = 16,
        volumePathMap: VolumePathMap = .init(), volumeConcurrency: Int = 2, podVolumes: PodVolumeRestoring? = nil
    ) {
        self.podVolumes = podVolumes
        self.client = client
        self.repository = repository
        self.width = width
        self.volumePathMap = volumePathMap
        self.volumeConcurrency = volumeConcurrency
    }

    public struct Request: Sendable {
        public var name: String
        public var backup: String
        public var options: RestoreOptions
        public var restoreVolumes: Bool
        public var labels: [String: String]
        public var annotations: [String: String]

        public init(
            name: String, backup: String, options: RestoreOptions, restoreVolumes: Bool = true,
            labels: [String: String] = [:], annotations: [String: String] = [:]
        ) {
            self.name = name
            self.backup = backup
            self.options = options
            self.restoreVolumes = restoreVolumes
            self.labels = labels
            self.annotations = annotations
        }
    }

    /// Runs the restore and commits its record (and, with `log`, the restore's log beside it, gzip-compressed)
    /// while the store lock is still held, so the record cannot land after a collection expired the backup it
    /// names. With `log`, the run's tasks log into it (`RunLog.current`). A request that cannot start throws
    /// `RestoreValidationError` (a name already used, an unknown or unfinished backup) or `RestoreError`
    /// (options, configuration in the cluster); the latter is recorded in the store as FailedValidation first,
    /// with its log.
    public func run(_ request: Request, started: Date = Date(), log: RunLog? = nil) async throws -> RestoreRecord {
        guard let log else { return try await runRecorded(request, started: started, log: nil) }
        return try await RunLog.$current.withValue(log) { try await runRecorded(request, started: started, log: log) }
    }

    private func runRecorded(_ request: Request, started: Date, log: RunLog?) async throws -> RestoreRecord {
        try request.options.validate()
        if try await repository.record(RestoreRecord.self, key: RestoreRecord.key(request.name)) != nil {
            throw RestoreValidationError("a restore named '\(request.name)' already exists")
        }
        guard let backup = try await repository.record(BackupRecord.self, key: BackupRecord.key(request.backup))
        else {
            throw RestoreValidationError("backup '\(request.backup)' not found in \(repository.store.location)")
        }
        guard backup.phase.isRestorable, let manifestName = backup.resourceManifest else {
            throw RestoreValidationError(
                "backup '\(request.backup)' is \(backup.phase.rawValue); only Completed or PartiallyFailed backups can be restored"
            )
        }
        let manifest = try await ResourceReader(repository: repository).manifest(named: manifestName)
        let logger = Logger(label: "velero-cas.restore")
        logger.info("restore \(request.name) of backup \(request.backup) started from \(repository.store.location)")
        let restorer = ResourceRestorer(
            client: try await client(), reader: ResourceReader(repository: repository), width: width)
        let volumes = VolumeRestorer(
            repository: repository, pathMap: volumePathMap, volumeConcurrency: volumeConcurrency)
        let result: RestoreResult
        let volumeResults: [VolumeRestoreResult]
        let repository = self.repository
        let pipeline = RestorePipeline(restorer: restorer, volumes: volumes, podVolumes: podVolumes)
        do {
            (result, volumeResults) =
                try await pipeline
                .run(
                    backup, manifest: manifest, options: request.options, restoreVolumes: request.restoreVolumes,
                    restoreName: request.name
                ) { result, volumeResults in
                    var record = RestoreRecord(
                        name: request.name, backup: request.backup, options: request.options, started: started,
                        result: result)
                    record.volumes = volumeResults
                    for warning in record.warnings { logger.warning("\(warning)") }
                    for volume in volumeResults {
                        if let error = volume.error {
                            logger.error("volume \(volume.persistentVolume) → \(volume.path): \(error)")
                        }
                    }
                    logger.info(
                        "restore \(request.name) \(record.phase.rawValue): \(record.created) created, \(record.updated) updated, \(record.skipped) skipped, \(record.failed) failed, \(record.warnings.count) warnings"
                    )
                    // The log first: the record's commit makes it durable too.
                    try await Self.storeLog(log, request, repository)
                    try await repository.commitRecord(
                        Self.labelled(record, request, commit: backup.commit), key: RestoreRecord.key(request.name))
                }
        } catch let error as RestoreError {
            let record = RestoreRecord.failedValidation(
                name: request.name, backup: request.backup, options: request.options, started: started,
                error: error.description)
            logger.error("restore \(request.name) failed validation: \(error)")
            try await Self.storeLog(log, request, repository)
            try await repository.commitRecord(
                Self.labelled(record, request, commit: backup.commit), key: RestoreRecord.key(request.name))
            throw error
        }
        // The record as committed (its completion time is the commit's; close enough for a summary).
        var record = RestoreRecord(
            name: request.name, backup: request.backup, options: request.options, started: started, result: result)
        record.volumes = volumeResults
        return Self.labelled(record, request, commit: backup.commit)
    }

    private static func storeLog(_ log: RunLog?, _ request: Request, _ repository: Repository) async throws {
        guard let log else { return }
        try await RunLogStore.writeBeforeRecord(log, key: RestoreRecord.logKey(request.name), repository: repository)
    }

    private static func labelled(_ record: RestoreRecord, _ request: Request, commit: String?) -> RestoreRecord {
        var record = record
        record.backupCommit = commit
        record.labels = request.labels.isEmpty ? nil : request.labels
        record.annotations = request.annotations.isEmpty ? nil : request.annotations
        return record
    }
}
