import BackupModel
import ChunkStore
import Foundation
import KubeClient
import Logging
import SystemIO

/// Finds the persistent volumes whose data can be read from here and backs each up as a tree snapshot, incrementally
/// against the previous backup of the same volume. `volumeConcurrency` volumes at once: each holds open files and
/// reader buffers (`TreeBackup`), so memory follows that width, not the number of volumes; chunk uploads within
/// them are bounded by the repository's chunk slots.
public struct VolumeCollector: Sendable {
    /// Volumes read at once unless told otherwise.
    public static let defaultVolumeConcurrency = 2

    public let client: KubeClient
    public let repository: Repository
    public var pathMap: VolumePathMap
    public var volumeConcurrency: Int
    /// Volumes being backed up right now, and the most at once.
    public let volumesInFlight: ConcurrencyGauge
    /// Reads a volume whose node is known on that node (the server's node agents); nil reads every path here.
    public var nodeReader: (@Sendable (NodeVolume) async -> VolumeRecord)?
    /// Made durable before a volume is read, here or on its node (the backup's InProgress record); nil: nothing to
    /// anchor (a snapshot taken on its own).
    public var anchor: ProgressAnchor?
    private let logger = Logger(label: "velero-cas.volumes")

    public init(
        client: KubeClient, repository: Repository, pathMap: VolumePathMap = VolumePathMap(),
        volumeConcurrency: Int = VolumeCollector.defaultVolumeConcurrency,
        volumesInFlight: ConcurrencyGauge = ConcurrencyGauge()
    ) {
        self.client = client
        self.repository = repository
        self.pathMap = pathMap
        self.volumeConcurrency = max(1, volumeConcurrency)
        self.volumesInFlight = volumesInFlight
    }

    struct Volume: Sendable {
        var name: String
        var path: String
        var claimNamespace: String?
        var claimName: String?
        /// The one node the volume's required node affinity allows (`kubernetes.io/hostname In [node]`).
        var node: String?
    }

    /// hostPath and local volumes whose claim lives in a namespace the backup selects.
    func volumes(namespaceSelected: @Sendable (String) -> Bool, allNamespaces: Bool) async throws -> [Volume] {
        guard
            let resource = try await client.discover().first(where: {
                $0.group.isEmpty && $0.name == "persistentvolumes"
            })
        else {
            return []
        }
        struct PV: Decodable {
            struct Spec: Decodable {
                struct PathSource: Decodable { var path: String }
                struct ClaimRef: Decodable { var namespace: String?; var name: String? }
                var hostPath: PathSource?
                var local: PathSource?
                var claimRef: ClaimRef?
                var nodeAffinity: NodeAffinity?
            }
            var spec: Spec?
        }
        var result: [Volume] = []
        try await client.listAll(resource) { page in
            for object in page {
                guard let pv = try? JSONDecoder().decode(PV.self, from: Data(object.json)),
                    let path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path
                else { continue }
                let claim = pv.spec?.claimRef
                if let namespace = claim?.namespace {
                    guard namespaceSelected(namespace) else { continue }
                } else if !allNamespaces {
                    continue
                }
                result.append(
                    Volume(
                        name: object.name, path: path, claimNamespace: claim?.namespace, claimName: claim?.name,
                        node: pv.spec?.nodeAffinity?.onlyNode))
            }
        }
        return result
    }

    /// Backs up every volume's data as snapshot "<backup>.pv.<volume>".
    func backup(_ volumes: [Volume], backupName: String, backupCommit: String) async -> [VolumeRecord] {
        await volumes.concurrentMap(width: volumeConcurrency, gauge: volumesInFlight) { volume in
            await self.backup(volume, backupName: backupName, backupCommit: backupCommit)
        }
        .sorted { $0.persistentVolume < $1.persistentVolume }
    }

    private func backup(_ volume: Volume, backupName: String, backupCommit: String) async -> VolumeRecord {
        let claim = volume.claimNamespace.map { "\($0)/\(volume.claimName ?? "")" }
        var record = VolumeRecord(
            persistentVolume: volume.name, claim: claim, path: volume.path, snapshot: nil, files: 0, logicalBytes: 0,
            newStoredBytes: 0, seconds: 0, skipped: nil)
        let readHere = nodeReader == nil || volume.node == nil
        let local = pathMap.localPath(volume.path)
        if readHere {
            let status = try? await BlockingPool.shared.run { try FileSystem.statusIfExists(local) }
            guard status?.kind == .directory else {
                record.skipped =
                    "the volume's path \(local) is not reachable from here (use --volume-path-map for node mounts)"
                logger.warning("persistent volume \(volume.name): \(record.skipped!)")
                return record
            }
        }
        do {
            try await anchor?.ensureDurable()
        } catch {
            record.skipped = "backing up \(volume.path) failed: the backup's record could not be stored: \(error)"
            logger.error("persistent volume \(volume.name): \(record.skipped!)")
            return record
        }
        if let nodeReader, let node = volume.node {
            return await nodeReader(
                NodeVolume(persistentVolume: volume.name, path: volume.path, node: node, claim: claim))
        }
        do {
            let snapshot = try await TreeBackup(repository: repository, fileConcurrency: 4)
                .run(source: local, name: "\(backupName).pv.\(volume.name)", backupCommit: backupCommit)
            record.snapshot = snapshot.name
            record.files = snapshot.summary.files
            record.logicalBytes = snapshot.summary.logicalBytes
            record.newStoredBytes = snapshot.summary.newStoredBytes
            record.seconds = snapshot.summary.seconds
        } catch {
            record.skipped = "backing up \(local) failed: \(error)"
            logger.error("persistent volume \(volume.name): \(record.skipped!)")
        }
        return record
    }
}
