import BackupModel
import Collectors
import Foundation
import KubeClient
import Restorer
import VeleroAPI

extension PodVolumeRestoreStep {
    /// Hands each hostPath or local persistent volume whose restored PersistentVolume names one node to that node's
    /// agent (a PodVolumeRestore with the path, the node and the overwrite policy in velero-cas annotations, and a
    /// `spec.pod` of kind PersistentVolume), waits for them like pod volumes, and leaves the others (no such
    /// affinity, not restored) to be written here as before.
    func restoreOnNode(_ volumes: [VolumeRecord], overwrite: Bool) async throws
        -> (results: [VolumeRestoreResult], remaining: [VolumeRecord])
    {
        var remaining: [VolumeRecord] = []
        var created: [Created] = []
        var results: [VolumeRestoreResult] = []
        for volume in volumes {
            guard let snapshot = volume.snapshot,
                let object = try? await server.client.get(
                    PodVolumeStep.volumes, namespace: nil, name: volume.persistentVolume),
                let node = NodeVolume.node(ofPersistentVolume: object.json)
            else {
                remaining.append(volume)
                continue
            }
            let target = PodVolumeTarget(
                source: PodVolumeSource(namespace: "", pod: "", podUID: "", volume: volume.persistentVolume, node: ""),
                snapshot: snapshot, namespace: "", bytes: volume.logicalBytes, claim: volume.claim,
                persistentVolume: volume.persistentVolume)
            let restored = PodVolumeSource(
                namespace: "", pod: "", podUID: "", volume: volume.persistentVolume, node: node)
            do {
                let name = try await createOnNode(volume, snapshot: snapshot, node: node, overwrite: overwrite)
                created.append(Created(name: name, target: target, restored: restored))
            } catch {
                if Task.isCancelled { throw error }
                var result = VolumeRestoreResult(
                    podVolume: restored, persistentVolume: volume.persistentVolume,
                    error: "could not be handed to the node agent of \(node): \(error)")
                result.podVolume = nil
                result.path = "\(node):\(volume.path)"
                results.append(result)
            }
        }
        let paths = Dictionary(volumes.map { ($0.persistentVolume, $0.path) }) { first, _ in first }
        for var result in try await wait(for: created) {
            let node = result.podVolume?.node ?? ""
            result.path = "\(node):\(paths[result.persistentVolume] ?? "")"
            result.podVolume = nil
            results.append(result)
        }
        return (results, remaining)
    }

    private func createOnNode(_ volume: VolumeRecord, snapshot: String, node: String, overwrite: Bool)
        async throws -> String
    {
        let object = newObject(
            pod: .init(kind: "PersistentVolume", namespace: nil, name: volume.persistentVolume, uid: nil),
            volume: volume.persistentVolume, snapshot: snapshot, bytes: volume.logicalBytes,
            annotations: [
                PodVolumeBackup.hostPathAnnotation: volume.path, PodVolumeRestore.nodeAnnotation: node,
                PodVolumeRestore.overwriteAnnotation: overwrite ? "true" : "false",
            ])
        let name = try await server.createOwned(object, owner: restore)
        server.logger.info(
            "restore \(restore.name): persistent volume \(volume.persistentVolume) at \(volume.path) on node \(node) is PodVolumeRestore \(name)"
        )
        return name
    }
}
