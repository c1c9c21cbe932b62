import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import VeleroAPI

extension PodVolumeStep {
    /// Backs up a hostPath or local persistent volume on the node its affinity names: a PodVolumeBackup for that
    /// node's agent, with the path in the `velero-cas.io/host-path` annotation and the volume's name in
    /// `spec.volume` (its `spec.pod` is a reference of kind PersistentVolume), waited for like a pod volume's. The
    /// record stays a persistent volume's (path and claim, no `podVolume`), so restores read it as before.
    func backUpOnNode(_ volume: NodeVolume, commit: String) async -> VolumeRecord {
        var record: VolumeRecord
        do {
            let name = try await createOnNode(volume, commit: commit)
            var item = Created(
                name: name,
                source: PodVolumeSource(
                    namespace: "", pod: "", podUID: "", volume: volume.persistentVolume, node: volume.node,
                    podVolumeBackup: name))
            item.claim = volume.claim
            item.persistentVolume = volume.persistentVolume
            record =
                try await wait(for: [item], commit: commit).first
                ?? .unreachable(
                    persistentVolume: volume.persistentVolume, claim: volume.claim, path: volume.path,
                    reason: "PodVolumeBackup \(name) vanished")
        } catch {
            record = .unreachable(
                persistentVolume: volume.persistentVolume, claim: volume.claim, path: volume.path,
                reason: "could not be handed to the node agent: \(error)")
        }
        record.podVolume = nil
        record.path = volume.path
        record.claim = volume.claim
        if let reason = record.skipped {
            // "failed" makes the backup PartiallyFailed, as a path read here that fails does.
            record.skipped = "backing up \(volume.path) on node \(volume.node) failed: \(reason)"
        }
        return record
    }

    private func createOnNode(_ volume: NodeVolume, commit: String) async throws -> String {
        var object = PodVolumeBackup(
            metadata: ObjectMeta(
                generateName: backup.name + "-", namespace: server.configuration.namespace,
                labels: [Velero.backupNameLabel: backup.name, Velero.backupUIDLabel: backup.metadata.uid ?? ""],
                annotations: [
                    PodVolumeBackup.backupCommitAnnotation: commit, PodVolumeBackup.hostPathAnnotation: volume.path,
                ]),
            spec: .init(
                node: volume.node,
                pod: .init(kind: "PersistentVolume", namespace: nil, name: volume.persistentVolume, uid: nil),
                volume: volume.persistentVolume, backupStorageLocation: location.name))
        object.spec.uploaderType = "velero-cas"
        object.spec.tags = [
            "backup": backup.name, "backup-uid": backup.metadata.uid ?? "", "pv": volume.persistentVolume,
        ]
        let name = try await server.createOwned(object, owner: backup)
        server.logger.info(
            "backup \(backup.name): persistent volume \(volume.persistentVolume) at \(volume.path) on node \(volume.node) is PodVolumeBackup \(name)"
        )
        return name
    }
}
