import BackupModel
import Collectors
import Foundation

/// Velero's pod volume restore action: a restored pod whose volumes have data from a node agent gets the
/// `restore-wait` init container, first in `spec.initContainers`, so its application containers start only once
/// the node agent of its node has written every such volume. The container mounts each of those volumes at
/// `/restores/<volume>` and runs `velero-cas restore-wait <restore uid>` (the image's entrypoint is velero-cas),
/// which returns once every mounted volume holds the done file `.velero/<restore uid>`.
///
/// Pods are matched by the namespace and name they had in the backup (the action runs before the namespace
/// mapping). A `restore-wait` (or legacy `restic-wait`) init container the backed-up pod already had, left from an
/// earlier restore, is removed first, as Velero does.
public struct RestoreWaitContainer: Sendable {
    /// The image holding velero-cas (the server's own, from `install`).
    public var image: String
    /// The restore's uid: the done file's name.
    public var restoreUID: String
    /// "namespace/pod" as backed up → the names of its volumes that have a pod volume snapshot.
    public var volumesByPod: [String: [String]]

    public init(image: String, restoreUID: String, volumes: [VolumeRecord]) {
        self.image = image
        self.restoreUID = restoreUID
        var byPod: [String: [String]] = [:]
        for volume in volumes where volume.snapshot != nil {
            guard let source = volume.podVolume else { continue }
            byPod["\(source.namespace)/\(source.pod)", default: []].append(source.volume)
        }
        volumesByPod = byPod.mapValues { Array(Set($0)).sorted() }
    }

    /// Velero's default resources for the container (requests and limits alike).
    static var resources: [String: Any] {
        ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["cpu": "100m", "memory": "128Mi"]]
    }

    /// Velero's default security context (Pod Security Standards' "restricted"), used when the pod's first
    /// container has none to copy.
    static var restrictedSecurityContext: [String: Any] {
        [
            "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]],
            "seccompProfile": ["type": "RuntimeDefault"], "runAsUser": 1000, "runAsNonRoot": true,
        ]
    }

    /// Adds the init container to a backed-up pod object that has pod volume data (before the namespace mapping).
    func apply(to pod: inout [String: Any]) {
        let metadata = pod["metadata"] as? [String: Any] ?? [:]
        let key = "\(metadata["namespace"] as? String ?? "")/\(metadata["name"] as? String ?? "")"
        guard var spec = pod["spec"] as? [String: Any] else { return }
        let existing = (spec["initContainers"] as? [[String: Any]] ?? []).filter {
            let name = $0["name"] as? String
            return name != PodVolumeRestoreNames.waitContainer && name != PodVolumeRestoreNames.legacyWaitContainer
        }
        let podVolumes = Set((spec["volumes"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        let restored = (volumesByPod[key] ?? []).filter(podVolumes.contains)
        guard !restored.isEmpty else {
            if (spec["initContainers"] as? [[String: Any]])?.count != existing.count {
                spec["initContainers"] = existing.isEmpty ? nil : existing
                pod["spec"] = spec
            }
            return
        }
        let firstContainer = (spec["containers"] as? [[String: Any]])?.first
        let container: [String: Any] = [
            "name": PodVolumeRestoreNames.waitContainer, "image": image, "imagePullPolicy": "IfNotPresent",
            "args": ["restore-wait", restoreUID],
            "env": [
                ["name": "POD_NAMESPACE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
                ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            ],
            "volumeMounts": restored.map { ["name": $0, "mountPath": "\(PodVolumeRestoreNames.mountRoot)/\($0)"] },
            "resources": Self.resources,
            "securityContext": firstContainer?["securityContext"] ?? Self.restrictedSecurityContext,
        ]
        spec["initContainers"] = [container] + existing
        pod["spec"] = spec
    }
}

/// The names the restore-wait protocol shares between the restorer, the node agent and `velero-cas restore-wait`
/// (the same values as on `PodVolumeRestore`, which this module does not depend on).
public enum PodVolumeRestoreNames {
    public static let waitContainer = "restore-wait"
    public static let legacyWaitContainer = "restic-wait"
    /// Where the init container mounts each restored volume: `/restores/<volume>`.
    public static let mountRoot = "/restores"
    /// The done file's directory inside a restored volume; the file is named after the restore's uid.
    public static let doneDirectory = ".velero"
}
