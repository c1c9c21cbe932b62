import BackupModel
import Collectors
import Foundation
import KubeClient
import Restorer
import VeleroAPI

/// The server's part of file-system restore for one Restore: once the restored pods exist (each with the
/// `restore-wait` init container the restorer added), one PodVolumeRestore per pod volume with data, for the node
/// agent of the node the new pod runs on; then a bounded wait (`podVolumeOperationTimeout`, Velero's
/// `--fs-backup-timeout`) for all of them. Every volume not restored comes back with the reason.
struct PodVolumeRestoreStep: Sendable {
    let server: VeleroServer
    let restore: Restore
    let location: ResolvedLocation

    /// The restorer's view of this step: the init container's image, the done file's name, and `run`.
    var restoring: PodVolumeRestoring {
        var restoring = PodVolumeRestoring(
            image: server.configuration.restoreHelperImage, restoreUID: restoreUID, restore: { try await run($0) })
        if server.configuration.hostPathVolumesOnNodeAgents {
            restoring.onNode = { try await restoreOnNode($0, overwrite: $1) }
        }
        return restoring
    }

    /// The done file's name. A Restore object always has a uid once the API server stored it.
    var restoreUID: String { restore.metadata.uid ?? restore.name }

    private struct NewPod: Decodable {
        struct Meta: Decodable { var uid: String? }
        struct Spec: Decodable { var nodeName: String? }
        var metadata: Meta
        var spec: Spec?
    }

    /// One PodVolumeRestore created.
    struct Created: Sendable {
        var name: String
        var target: PodVolumeTarget
        var restored: PodVolumeSource
    }

    func run(_ targets: [PodVolumeTarget]) async throws -> [VolumeRestoreResult] {
        var created: [Created] = []
        var results: [VolumeRestoreResult] = []
        for target in targets {
            var restored = PodVolumeSource(
                namespace: target.namespace, pod: target.source.pod, podUID: "", volume: target.source.volume, node: "")
            do {
                let object = try await server.client.get(
                    PodVolumeStep.pods, namespace: target.namespace, name: restored.pod)
                let pod = try JSONDecoder().decode(NewPod.self, from: Data(object.json))
                restored.podUID = pod.metadata.uid ?? ""
                restored.node = pod.spec?.nodeName ?? ""
                created.append(
                    Created(name: try await create(target, restored: restored), target: target, restored: restored))
            } catch {
                if Task.isCancelled { throw error }
                results.append(
                    Self.result(target, restored, error: "could not be handed to the node agent: \(error)"))
            }
        }
        return results + (try await wait(for: created))
    }

    /// Creates the volume's PodVolumeRestore (Velero's labels and owner reference).
    private func create(_ target: PodVolumeTarget, restored: PodVolumeSource) async throws -> String {
        var object = newObject(
            pod: .init(namespace: restored.namespace, name: restored.pod, uid: restored.podUID),
            volume: restored.volume, snapshot: target.snapshot, bytes: target.bytes)
        object.metadata.labels?[PodVolumeRestore.podUIDLabel] = restored.podUID.isEmpty ? nil : restored.podUID
        object.spec.sourceNamespace = target.source.namespace
        let name = try await server.createOwned(object, owner: restore)
        server.logger.info(
            "restore \(restore.name): pod volume \(restored.display) from snapshot \(target.snapshot) is PodVolumeRestore \(name)"
        )
        return name
    }

    /// A PodVolumeRestore of this restore (Velero's restore name and uid labels) for the server's namespace.
    func newObject(
        pod: PodVolumeRestore.PodReference, volume: String, snapshot: String, bytes: Int64,
        annotations: [String: String]? = nil
    ) -> PodVolumeRestore {
        let labels = [
            Velero.restoreNameLabel: RestoreLabels.validValue(restore.name),
            PodVolumeRestore.restoreUIDLabel: restoreUID,
        ]
        var object = PodVolumeRestore(
            metadata: ObjectMeta(
                generateName: restore.name + "-", namespace: server.configuration.namespace, labels: labels,
                annotations: annotations),
            spec: .init(pod: pod, volume: volume, backupStorageLocation: location.name, snapshotID: snapshot))
        object.spec.uploaderType = "velero-cas"
        object.spec.snapshotSize = bytes
        return object
    }

    /// Polls the PodVolumeRestores until each is Completed or Failed, or the timeout passes.
    func wait(for created: [Created]) async throws -> [VolumeRestoreResult] {
        guard !created.isEmpty else { return [] }
        let access = ObjectAccess<PodVolumeRestore>(client: server.client, namespace: server.configuration.namespace)
        let timeout = server.configuration.podVolumeOperationTimeout
        let deadline = ContinuousClock.now + timeout
        var finished: [String: PodVolumeRestore] = [:]
        var lastLogged = ContinuousClock.now
        while finished.count < created.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: server.configuration.podVolumePollInterval)
            var bytesDone: Int64 = 0
            for item in created where finished[item.name] == nil {
                // An API error is looked at again at the next poll (the deadline still bounds the wait).
                guard let object = try? await access.get(item.name) else { continue }
                if object.phase.isFinal { finished[item.name] = object }
                bytesDone += object.status?.progress?.bytesDone ?? 0
            }
            if ContinuousClock.now - lastLogged >= .seconds(10) {
                lastLogged = .now
                server.logger.info(
                    "restore \(restore.name): \(finished.count) of \(created.count) pod volumes restored; running ones at \(bytesDone) bytes"
                )
            }
        }
        var results: [VolumeRestoreResult] = []
        for item in created {
            var restored = item.restored
            guard let object = finished[item.name] else {
                let node = restored.node.isEmpty ? "the pod's node (the pod is not scheduled yet)" : restored.node
                let reason = "no node agent finished it within \(timeout) (is a node agent running on \(node)?)"
                // Failed, so that no agent takes it up (or keeps looking for its pod) after the restore has ended.
                _ = try? await access.updateStatus(item.name) { restore in
                    guard !restore.phase.isFinal else { return false }
                    restore.status = restore.status ?? .init()
                    restore.status?.phase = .failed
                    restore.status?.message = "the restore stopped waiting: \(reason)"
                    restore.status?.completionTimestamp = Date()
                    return true
                }
                results.append(Self.result(item.target, restored, error: "PodVolumeRestore \(item.name): \(reason)"))
                continue
            }
            restored.node = object.status?.node ?? restored.node
            var result = Self.result(
                item.target, restored,
                error: object.phase == .completed
                    ? nil
                    : "PodVolumeRestore \(item.name): \(object.status?.message ?? "the node agent reported \(object.phase.rawValue)")"
            )
            if object.phase == .completed {
                result.bytes = object.status?.progress?.bytesDone ?? item.target.bytes
                if let start = object.status?.startTimestamp, let end = object.status?.completionTimestamp {
                    result.seconds = end.timeIntervalSince(start)
                }
            }
            results.append(result)
        }
        return results
    }

    private static func result(_ target: PodVolumeTarget, _ restored: PodVolumeSource, error: String?)
        -> VolumeRestoreResult
    {
        VolumeRestoreResult(podVolume: restored, persistentVolume: target.persistentVolume, error: error)
    }
}
