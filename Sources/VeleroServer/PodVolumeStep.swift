import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Logging
import VeleroAPI

/// The server's part of file-system backup for one Backup: choose the pods' volumes (`PodVolumeSelection`), create
/// one PodVolumeBackup per chosen volume for the node agent of the pod's node, wait for them (bounded by
/// `podVolumeOperationTimeout`), and turn each into a volume of the backup's record, its snapshot checked in the
/// store. Every volume asked for and not backed up is named in the outcome with the reason.
struct PodVolumeStep: Sendable {
    let server: VeleroServer
    let backup: Backup
    let location: ResolvedLocation

    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)
    static let claims = APIResource(
        group: "", version: "v1", name: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true)
    static let volumes = APIResource(
        group: "", version: "v1", name: "persistentvolumes", kind: "PersistentVolume", namespaced: false)

    /// One PodVolumeBackup created, and what the record will say about it.
    struct Created: Sendable {
        var name: String
        var source: PodVolumeSource
        var claim: String?
        var persistentVolume: String?
    }

    func run(_ record: BackupRecord, commit: String, anchor: ProgressAnchor) async throws -> PodVolumeOutcome {
        var outcome = PodVolumeOutcome()
        var created: [Created] = []
        var failed: [VolumeRecord] = []
        let defaultAll = backup.spec.defaultVolumesToFsBackup ?? server.configuration.defaultVolumesToFsBackup
        // The rules were checked when the backup was validated.
        var hooks = BackupHookStage(
            rules: (try? BackupHookRules.parse(backup.spec.hooks).get()) ?? BackupHookRules(),
            runner: PodHookRunner(client: server.client, logger: server.logger, operation: "backup \(backup.name)"))
        for pod in try await selectedPods(record.filter) {
            let podName = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
            let choice = PodVolumeSelection.choose(pod, defaultVolumesToFsBackup: defaultAll)
            for (volume, reason) in choice.skipped {
                outcome.warnings.append("pod volume \(podName)/\(volume) not backed up: \(reason)")
            }
            if !choice.quietlySkipped.isEmpty {
                let list = choice.quietlySkipped.map { "\($0.volume) (\($0.reason))" }.joined(separator: ", ")
                outcome.warnings.append("pod \(podName): volumes not backed up from the node: \(list)")
            }
            guard try await hooks.before(pod, volumes: choice.chosen.count, into: &outcome) else { continue }
            guard !choice.chosen.isEmpty else { continue }
            guard let node = pod.spec?.nodeName, !node.isEmpty, let uid = pod.metadata.uid else {
                for volume in choice.chosen {
                    outcome.warnings.append(
                        "pod volume \(podName)/\(volume) not backed up: the pod is not scheduled on a node")
                }
                continue
            }
            if let phase = pod.status?.phase, phase != "Running" {
                for volume in choice.chosen {
                    outcome.warnings.append(
                        "pod volume \(podName)/\(volume) not backed up: the pod is \(phase), not Running")
                }
                continue
            }
            for volume in choice.chosen {
                let source = PodVolumeSource(
                    namespace: pod.metadata.namespace ?? "", pod: pod.metadata.name ?? "", podUID: uid, volume: volume,
                    node: node)
                do {
                    if let reason = PodVolumeSelection.blockDevice(pod, volume: volume) {
                        throw Unsupported(reason: reason)
                    }
                    created.append(try await create(source, pod: pod, commit: commit, anchor: anchor))
                } catch let skip as Skip {
                    outcome.warnings.append("pod volume \(source.display) not backed up: \(skip.reason)")
                } catch let unsupported as Unsupported {
                    // Chosen and unreadable by any agent (a block volume): an error on the backup, no PodVolumeBackup.
                    var record = VolumeRecord.unreachable(persistentVolume: "", path: "", reason: unsupported.reason)
                    record.podVolume = source
                    failed.append(record)
                    server.logger.warning("backup \(backup.name): pod volume \(source.display): \(unsupported.reason)")
                } catch {
                    // Chosen and not handed to a node agent (a missing claim, an API error): an error on the backup.
                    if Task.isCancelled { throw error }
                    var record = VolumeRecord.unreachable(
                        persistentVolume: "", path: "", reason: "could not be handed to the node agent: \(error)")
                    record.podVolume = source
                    failed.append(record)
                }
            }
        }
        let finished = try await hooks.after(created, into: &outcome) { ended in
            try await wait(for: created, commit: commit, finished: ended)
        }
        outcome.volumes = failed + finished
        return outcome
    }

    /// A chosen volume that is backed up another way (a hostPath persistent volume, read from its path).
    struct Skip: Error { var reason: String }
    /// A chosen volume that file-system backup cannot read at all (a block volume).
    struct Unsupported: Error { var reason: String }

    /// The pods in the backup's namespaces that match its label selectors.
    private func selectedPods(_ filter: ResourceFilter) async throws -> [PodForVolumes] {
        if !filter.includeResources.isEmpty, !filter.includeResources.contains(where: { $0 == "*" || $0 == "pods" }) {
            return []
        }
        if filter.excludeResources.contains("pods") { return [] }
        let all = filter.includeNamespaces.isEmpty || filter.includeNamespaces.contains("*")
        let selectors: [String?] = filter.orLabelSelectors.isEmpty ? [filter.labelSelector] : filter.orLabelSelectors
        var seen = Set<String>()
        var pods: [PodForVolumes] = []
        for selector in selectors {
            try await server.client.listAll(Self.pods, labelSelector: selector) { page in
                for object in page {
                    guard let pod = try? JSONDecoder().decode(PodForVolumes.self, from: Data(object.json)),
                        let namespace = pod.metadata.namespace,
                        all || filter.includeNamespaces.contains(where: { NamespacePattern.matches($0, namespace) }),
                        !filter.excludeNamespaces.contains(where: { NamespacePattern.matches($0, namespace) }),
                        seen.insert(object.metadata.uid ?? "\(namespace)/\(object.name)").inserted
                    else { continue }
                    pods.append(pod)
                }
            }
        }
        return pods
    }

    /// Creates the volume's PodVolumeBackup (Velero's labels, annotation and owner reference).
    /// The backup's record is made durable first (`anchor`): the node agent commits a snapshot under it.
    private func create(_ source: PodVolumeSource, pod: PodForVolumes, commit: String, anchor: ProgressAnchor)
        async throws -> Created
    {
        var labels = [Velero.backupNameLabel: backup.name, Velero.backupUIDLabel: backup.metadata.uid ?? ""]
        var annotations = [PodVolumeBackup.backupCommitAnnotation: commit]
        var item = Created(name: "", source: source)
        let claimName = pod.spec?.volumes?.first { $0.name == source.volume }?.persistentVolumeClaim?.claimName
        if let claimName {
            struct Claim: Decodable {
                struct Meta: Decodable { var uid: String? }
                struct Spec: Decodable {
                    var volumeName: String?
                    var volumeMode: String?
                }
                var metadata: Meta
                var spec: Spec?
            }
            struct Volume: Decodable {
                struct Spec: Decodable { var hostPath: PodForVolumes.Present? }
                var spec: Spec?
            }
            let object = try await server.client.get(Self.claims, namespace: source.namespace, name: claimName)
            let claim = try JSONDecoder().decode(Claim.self, from: Data(object.json))
            if claim.spec?.volumeMode == "Block" {
                throw Unsupported(
                    reason: "claim \(claimName) has volumeMode Block: \(PodVolumeSelection.blockNotSupported)")
            }
            if let volumeName = claim.spec?.volumeName, !volumeName.isEmpty,
                let pv = try? await server.client.get(Self.volumes, namespace: nil, name: volumeName),
                (try? JSONDecoder().decode(Volume.self, from: Data(pv.json)))?.spec?.hostPath != nil
            {
                throw Skip(reason: "claim \(claimName) is bound to hostPath persistent volume \(volumeName)")
            }
            labels[PodVolumeBackup.pvcUIDLabel] = claim.metadata.uid
            annotations[PodVolumeBackup.pvcNameAnnotation] = claimName
            item.claim = "\(source.namespace)/\(claimName)"
            item.persistentVolume = claim.spec?.volumeName
        }
        var object = PodVolumeBackup(
            metadata: ObjectMeta(
                generateName: backup.name + "-", namespace: server.configuration.namespace, labels: labels,
                annotations: annotations),
            spec: .init(
                node: source.node,
                pod: .init(namespace: source.namespace, name: source.pod, uid: source.podUID),
                volume: source.volume, backupStorageLocation: location.name))
        object.spec.uploaderType = "velero-cas"
        object.spec.tags = [
            "backup": backup.name, "backup-uid": backup.metadata.uid ?? "", "pod": source.pod,
            "pod-uid": source.podUID, "ns": source.namespace, "volume": source.volume,
        ]
        if let uid = labels[PodVolumeBackup.pvcUIDLabel] { object.spec.tags?["pvc-uid"] = uid }
        let json = try OwnerReference.adding(backup, to: try object.encoded())
        try await anchor.ensureDurable()
        let made = try await server.client.create(
            PodVolumeBackup.resource, namespace: server.configuration.namespace, json: json)
        item.name = made.name
        item.source.podVolumeBackup = made.name
        server.logger.info(
            "backup \(backup.name): pod volume \(source.display) on node \(source.node) is PodVolumeBackup \(made.name)"
        )
        return item
    }
}
