import Foundation

/// A pod as far as choosing its volumes for file-system backup needs it.
struct PodForVolumes: Decodable, Sendable {
    struct Metadata: Decodable, Sendable {
        var name: String?
        var namespace: String?
        var uid: String?
        var annotations: [String: String]?
        var labels: [String: String]?
    }
    struct Container: Decodable, Sendable {
        struct Device: Decodable, Sendable { var name: String }
        var name: String
        /// Volumes this container uses as raw block devices (`volumeMode: Block` claims).
        var volumeDevices: [Device]?
    }
    struct Volume: Decodable, Sendable {
        struct Claim: Decodable, Sendable { var claimName: String? }
        var name: String
        var persistentVolumeClaim: Claim?
        // Kinds never backed up from the node: their content comes from the API (or the host).
        var hostPath: Present?
        var secret: Present?
        var configMap: Present?
        var projected: Present?
        var downwardAPI: Present?
    }
    /// Any JSON value: only whether the key is there matters.
    struct Present: Decodable, Sendable {
        init(from decoder: any Decoder) throws {}
    }
    struct Spec: Decodable, Sendable {
        var nodeName: String?
        var volumes: [Volume]?
        var containers: [Container]?
        var initContainers: [Container]?
    }
    struct Status: Decodable, Sendable { var phase: String? }
    var metadata: Metadata
    var spec: Spec?
    var status: Status?
}

/// Velero's choice of a pod's volumes for file-system backup: the volumes named in
/// `backup.velero.io/backup-volumes` (opt-in), or with `defaultVolumesToFsBackup` every volume except those named
/// in `backup.velero.io/backup-volumes-excludes` (opt-out); never secret, configMap, projected, downwardAPI or
/// hostPath volumes. Unlike Velero, every volume it will not back up that was asked for by name is reported.
enum PodVolumeSelection {
    static let includeAnnotation = "backup.velero.io/backup-volumes"
    static let excludeAnnotation = "backup.velero.io/backup-volumes-excludes"

    struct Choice: Equatable, Sendable {
        /// Volumes to back up.
        var chosen: [String] = []
        /// Volumes named for backup (or, opting out, every volume) left out, with the reason; for warnings.
        var skipped: [(volume: String, reason: String)] = []
        /// Volumes of kinds never backed up that nobody asked for by name (opt-out mode): for the log only.
        var quietlySkipped: [(volume: String, reason: String)] = []

        static func == (a: Choice, b: Choice) -> Bool {
            a.chosen == b.chosen && a.skipped.map(\.volume) == b.skipped.map(\.volume)
                && a.skipped.map(\.reason) == b.skipped.map(\.reason)
        }
    }

    static func names(_ annotation: String?) -> [String] {
        (annotation ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
    }

    /// Why a volume of this kind is never backed up from the node, or nil.
    static func unsupportedKind(_ volume: PodForVolumes.Volume) -> String? {
        if volume.hostPath != nil { return "hostPath volumes are not backed up from the node" }
        if volume.secret != nil { return "secret volumes are not backed up (the Secret is backed up as a resource)" }
        if volume.configMap != nil {
            return "configMap volumes are not backed up (the ConfigMap is backed up as a resource)"
        }
        if volume.projected != nil { return "projected volumes are not backed up (their content comes from the API)" }
        if volume.downwardAPI != nil {
            return "downwardAPI volumes are not backed up (their content comes from the pod's own fields)"
        }
        return nil
    }

    /// Why file-system backup cannot read a volume a container uses as a raw block device (`volumeDevices`), or
    /// nil. Such a volume has no directory under the kubelet's `volumes/`, only a device under `volumeDevices/`.
    static func blockDevice(_ pod: PodForVolumes, volume: String) -> String? {
        let containers = (pod.spec?.initContainers ?? []) + (pod.spec?.containers ?? [])
        guard let user = containers.first(where: { $0.volumeDevices?.contains { $0.name == volume } == true }) else {
            return nil
        }
        return "container \(user.name) uses it as a raw block device (volumeDevices): \(blockNotSupported)"
    }

    /// The reason every block volume gives.
    static let blockNotSupported = "block volumes are not supported by file-system backup"

    static func choose(_ pod: PodForVolumes, defaultVolumesToFsBackup: Bool) -> Choice {
        let volumes = pod.spec?.volumes ?? []
        let annotations = pod.metadata.annotations ?? [:]
        var choice = Choice()
        let optIn = names(annotations[includeAnnotation])
        if !optIn.isEmpty || !defaultVolumesToFsBackup {
            for name in optIn {
                guard let volume = volumes.first(where: { $0.name == name }) else {
                    choice.skipped.append((name, "the pod has no volume of that name (\(includeAnnotation))"))
                    continue
                }
                if let reason = unsupportedKind(volume) {
                    choice.skipped.append((name, reason))
                } else if !choice.chosen.contains(name) {
                    choice.chosen.append(name)
                }
            }
            return choice
        }
        let excluded = Set(names(annotations[excludeAnnotation]))
        for volume in volumes where !excluded.contains(volume.name) {
            if let reason = unsupportedKind(volume) {
                choice.quietlySkipped.append((volume.name, reason))
            } else {
                choice.chosen.append(volume.name)
            }
        }
        return choice
    }
}
