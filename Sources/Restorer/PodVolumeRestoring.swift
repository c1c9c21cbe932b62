import BackupModel
import Collectors
import Foundation

/// One pod volume of a backup to be written into a restored pod by the node agent of the pod's node.
public struct PodVolumeTarget: Sendable, Equatable {
    /// The volume as backed up (its pod, namespace and name as they were then).
    public var source: PodVolumeSource
    /// The snapshot holding its data.
    public var snapshot: String
    /// The restored pod's namespace (after the namespace mapping); the pod keeps its name.
    public var namespace: String
    /// The snapshot's size in bytes.
    public var bytes: Int64
    /// "namespace/name" of the claim at backup time, for a claim-backed volume.
    public var claim: String?
    /// The claim's persistent volume at backup time, or empty.
    public var persistentVolume: String

    public init(
        source: PodVolumeSource, snapshot: String, namespace: String, bytes: Int64, claim: String?,
        persistentVolume: String
    ) {
        self.source = source
        self.snapshot = snapshot
        self.namespace = namespace
        self.bytes = bytes
        self.claim = claim
        self.persistentVolume = persistentVolume
    }
}

/// How a restore run by the server restores pod volume data: the `restore-wait` init container's image and the
/// restore's uid (the done file's name), and the step that hands the restored pods' volumes to the node agents
/// (PodVolumeRestores) and waits for them. The CLI's local mode has none: it has no node agents, and says so for
/// each pod volume it leaves out.
public struct PodVolumeRestoring: Sendable {
    public var image: String
    public var restoreUID: String
    /// Runs once the objects are applied, with the pod volumes of pods this restore created; returns one result
    /// per volume, with `error` set for those not restored.
    public var restore: @Sendable (_ targets: [PodVolumeTarget]) async throws -> [VolumeRestoreResult]
    /// Writes hostPath and local persistent volumes through the agent of their node (the server's
    /// `--node-agent-host-path-volumes`), once the objects are restored: returns the results of the volumes it
    /// handed to agents and the volumes left to write here. nil writes every such volume here.
    public var onNode:
        (
            @Sendable (_ volumes: [VolumeRecord], _ overwrite: Bool) async throws -> (
                results: [VolumeRestoreResult], remaining: [VolumeRecord]
            )
        )?

    public init(
        image: String, restoreUID: String,
        restore: @escaping @Sendable (_ targets: [PodVolumeTarget]) async throws -> [VolumeRestoreResult]
    ) {
        self.image = image
        self.restoreUID = restoreUID
        self.restore = restore
    }

    /// The pod volumes to restore: those with a snapshot whose pod this restore created (in its mapped namespace).
    /// A selected pod that was not created (it existed, it failed) gets a warning naming each of its volumes; pods
    /// the restore did not select are left out quietly.
    static func targets(_ backup: BackupRecord, options: RestoreOptions, result: RestoreResult)
        -> (targets: [PodVolumeTarget], warnings: [String])
    {
        var pods: [String: RestoreItemResult] = [:]
        for item in result.items where item.resource == "pods" {
            pods["\(item.namespace ?? "")/\(item.name)"] = item
        }
        var targets: [PodVolumeTarget] = []
        var warnings: [String] = []
        for volume in backup.volumes {
            guard let source = volume.podVolume, let snapshot = volume.snapshot else { continue }
            let namespace = options.namespaceMappings[source.namespace] ?? source.namespace
            guard let pod = pods["\(namespace)/\(source.pod)"] else { continue }
            guard pod.outcome == .created else {
                let why = pod.message.map { "\(pod.outcome.rawValue): \($0)" } ?? pod.outcome.rawValue
                warnings.append(
                    "pod volume \(namespace)/\(source.pod)/\(source.volume) not restored: the pod was not created (\(why))"
                )
                continue
            }
            targets.append(
                PodVolumeTarget(
                    source: source, snapshot: snapshot, namespace: namespace, bytes: volume.logicalBytes,
                    claim: volume.claim, persistentVolume: volume.persistentVolume))
        }
        return (targets, warnings)
    }

    /// Restores the targets and folds the outcome into the restore's result: each volume not restored is an error
    /// (the restore becomes PartiallyFailed) naming the pod volume and the reason.
    func run(_ backup: BackupRecord, options: RestoreOptions, result: inout RestoreResult) async throws
        -> [VolumeRestoreResult]
    {
        let (targets, warnings) = Self.targets(backup, options: options, result: result)
        result.warnings += warnings
        guard !targets.isEmpty else { return [] }
        let volumes = try await restore(targets)
        let errors = volumes.compactMap { volume -> String? in
            guard let error = volume.error else { return nil }
            let name = volume.podVolume?.display ?? volume.persistentVolume
            return "pod volume \(name): \(error)"
        }
        if !errors.isEmpty {
            result.volumeErrors = (result.volumeErrors ?? []) + errors
            if result.phase == .completed { result.phase = .partiallyFailed }
        }
        return volumes
    }

    /// Without node agents (the CLI's local mode), each selected pod volume with data is named in a warning.
    static func leftOut(_ backup: BackupRecord, options: RestoreOptions, result: RestoreResult) -> [String] {
        targets(backup, options: options, result: result).targets.map {
            "pod volume \($0.namespace)/\($0.source.pod)/\($0.source.volume) not restored: pod volume data is written by the node agents, through a restore run by 'velero-cas server'"
        }
    }
}

extension VolumeRestoreResult {
    /// A pod volume written by a node agent (no local path).
    public init(
        podVolume: PodVolumeSource, persistentVolume: String, bytes: Int64 = 0, seconds: Double = 0, error: String?
    ) {
        self.init(
            persistentVolume: persistentVolume, path: "", bytes: bytes, seconds: seconds, error: error,
            podVolume: podVolume)
    }
}
