import BackupModel
import ChunkStore
import Collectors
import Foundation
import SystemIO

/// Reassembles backed-up volume data into each volume's path (through the path map), byte for byte, refusing path
/// escapes and symlinks (`TreeRestore`) and non-empty targets unless existing data may be overwritten. Owners, and
/// with them setuid/setgid bits, are restored when running as root (a node agent), as `TreeRestore` does.
/// `volumeConcurrency` volumes at once, as `VolumeCollector` backs them up.
public struct VolumeRestorer: Sendable {
    public let repository: Repository
    public var pathMap: VolumePathMap
    public var volumeConcurrency: Int
    /// Volumes being restored right now, and the most at once.
    public let volumesInFlight = ConcurrencyGauge()

    public init(
        repository: Repository, pathMap: VolumePathMap = VolumePathMap(),
        volumeConcurrency: Int = VolumeCollector.defaultVolumeConcurrency
    ) {
        self.repository = repository
        self.pathMap = pathMap
        self.volumeConcurrency = max(1, volumeConcurrency)
    }

    public func restore(_ volumes: [VolumeRecord], overwrite: Bool) async -> [VolumeRestoreResult] {
        let withData = volumes.compactMap { volume in volume.snapshot.map { (volume, $0) } }
        return await withData.concurrentMap(width: volumeConcurrency, gauge: volumesInFlight) { volume, snapshot in
            let path = pathMap.localPath(volume.path)
            do {
                let summary = try await TreeRestore(repository: repository, fileConcurrency: 4)
                    .run(snapshot: snapshot, into: path, overwrite: overwrite)
                return VolumeRestoreResult(
                    persistentVolume: volume.persistentVolume, path: path, bytes: summary.bytes,
                    seconds: summary.seconds)
            } catch {
                return VolumeRestoreResult(
                    persistentVolume: volume.persistentVolume, path: path, bytes: 0, seconds: 0, error: "\(error)")
            }
        }
        .sorted { $0.persistentVolume < $1.persistentVolume }
    }
}

/// A whole restore of a backup: objects (tiered, parallel) and volume data at the same time.
public struct RestorePipeline: Sendable {
    public let restorer: ResourceRestorer
    public let volumes: VolumeRestorer
    /// Pod volume data through the node agents (a restore run by the server); nil in the CLI's local mode.
    public let podVolumes: PodVolumeRestoring?

    public init(restorer: ResourceRestorer, volumes: VolumeRestorer, podVolumes: PodVolumeRestoring? = nil) {
        self.restorer = restorer
        self.volumes = volumes
        self.podVolumes = podVolumes
    }

    /// Restores objects and volumes; with `restoreName`, objects are labelled with it and the backup's name.
    /// `commit` runs with the results while the store lock is still held, so the restore's record cannot land after
    /// a collection has expired the backup it names.
    public func run(
        _ backup: BackupRecord, manifest: ResourceManifest, options: RestoreOptions, restoreVolumes: Bool,
        restoreName: String? = nil,
        commit: (@Sendable (RestoreResult, [VolumeRestoreResult]) async throws -> Void)? = nil
    )
        async throws
        -> (RestoreResult, [VolumeRestoreResult])
    {
        // Pod volumes are written by the node agents (`podVolumes`), after their pods exist: path-based ones here.
        let selected = backup.volumes.filter { volume in
            guard volume.podVolume == nil else { return false }
            guard let claim = volume.claim else { return options.includeNamespaces.isEmpty }
            let namespace = String(claim.split(separator: "/").first ?? "")
            return ResourceRestorer.namespaceSelected(namespace, options: options)
        }
        let overwrite = options.existingResourcePolicy == .update
        return try await StoreLock.withLock(
            .shared, repository: volumes.repository, operation: "restore from \(backup.name)"
        ) {
            let names = restoreName.map { RestoreNames(backup: backup.name, restore: $0) }
            var prepared = try await restorer.prepare(options, names: names)
            prepared.transform.restoreWait = podVolumes.map {
                RestoreWaitContainer(image: $0.image, restoreUID: $0.restoreUID, volumes: backup.volumes)
            }
            // Volumes written on their node wait for the objects: the restored PersistentVolume names the node.
            let onNode = restoreVolumes ? podVolumes?.onNode : nil
            async let volumeResults =
                restoreVolumes && onNode == nil ? volumes.restore(selected, overwrite: overwrite) : []
            var result = try await restorer.restore(manifest, options: options, prepared: prepared)
            var volumeOutcome = await volumeResults
            if let onNode {
                let (handled, remaining) = try await onNode(selected, overwrite)
                volumeOutcome += handled + (await volumes.restore(remaining, overwrite: overwrite))
            }
            let failedVolumes = volumeOutcome.filter { $0.error != nil }
            if !failedVolumes.isEmpty && result.phase == .completed { result.phase = .partiallyFailed }
            result.warnings += failedVolumes.map {
                "volume data of \($0.persistentVolume) was not restored into \($0.path): \($0.error ?? "")"
            }
            if let podVolumes {
                volumeOutcome += try await podVolumes.run(backup, options: options, result: &result)
            } else {
                result.warnings += PodVolumeRestoring.leftOut(backup, options: options, result: result)
            }
            try await commit?(result, volumeOutcome)
            return (result, volumeOutcome)
        }
    }
}
