import ChunkStore
import Foundation
import KubeClient
import SystemIO
import VeleroAPI

/// Finds a PodVolumeBackup's data on this node: the pod (still the same uid), its volume, the claim's volume when
/// it has one, and the directory the kubelet mounted it at,
/// `<kubelet root>/pods/<pod uid>/volumes/<plugin>/<volume or persistent volume name>` (CSI volumes: its `mount`).
struct PodVolumeLocator: Sendable {
    let client: KubeClient
    let kubeletRoot: String

    struct Located: Sendable {
        /// The directory to read.
        var path: String
        /// What makes two backups "the same volume" for incremental backup: the claim's uid, else the pod's
        /// controller and the volume's name, else the pod's name and the volume's name.
        var identity: String
    }

    private struct Pod: Decodable {
        struct Owner: Decodable {
            var kind: String?
            var name: String?
            var controller: Bool?
        }
        struct Meta: Decodable {
            var uid: String?
            var ownerReferences: [Owner]?
        }
        struct Volume: Decodable {
            struct Claim: Decodable { var claimName: String? }
            var name: String
            var persistentVolumeClaim: Claim?
            /// A generic ephemeral volume: its claim is named `<pod>-<volume>`.
            var ephemeral: PodForVolumes.Present?
        }
        struct Spec: Decodable { var volumes: [Volume]? }
        var metadata: Meta
        var spec: Spec?
    }

    private struct Claim: Decodable {
        struct Meta: Decodable { var uid: String? }
        struct Spec: Decodable {
            var volumeName: String?
            var volumeMode: String?
        }
        var metadata: Meta
        var spec: Spec?
    }

    func locate(_ backup: PodVolumeBackup) async throws -> Located {
        try await locate(pod: backup.spec.pod, volume: backup.spec.volume)
    }

    /// Finds the volume of the pod `reference` names (namespace, name and, when given, the uid it must still
    /// have). A directory the kubelet has not made yet and a claim not bound yet are `transient` failures.
    func locate(pod reference: PodVolumeBackup.PodReference, volume volumeName: String) async throws -> Located {
        let namespace = reference.namespace ?? ""
        let podName = reference.name ?? ""
        let where_ = "pod \(namespace)/\(podName)"
        let object: KubeObject
        do {
            object = try await client.get(PodVolumeStep.pods, namespace: namespace, name: podName)
        } catch let error as KubeAPIError where error.isNotFound {
            throw PodVolumeFailure(description: "\(where_) no longer exists")
        }
        let pod = try JSONDecoder().decode(Pod.self, from: Data(object.json))
        guard let uid = pod.metadata.uid, uid == reference.uid ?? uid else {
            throw PodVolumeFailure(
                description:
                    "\(where_) was replaced (uid \(pod.metadata.uid ?? "none"), expected \(reference.uid ?? ""))")
        }
        guard let volume = pod.spec?.volumes?.first(where: { $0.name == volumeName }) else {
            throw PodVolumeFailure(description: "\(where_) has no volume named '\(volumeName)'")
        }
        var directory = volume.name
        var identity: String
        if let owner = pod.metadata.ownerReferences?.first(where: { $0.controller == true }) {
            identity = "owner/\(namespace)/\(owner.kind ?? "")/\(owner.name ?? "")/\(volume.name)"
        } else {
            identity = "pod/\(namespace)/\(podName)/\(volume.name)"
        }
        let what = "\(where_) volume '\(volume.name)'"
        if let claimName = volume.persistentVolumeClaim?.claimName
            ?? (volume.ephemeral != nil ? "\(podName)-\(volume.name)" : nil)
        {
            let claimObject = try await client.get(PodVolumeStep.claims, namespace: namespace, name: claimName)
            let claim = try JSONDecoder().decode(Claim.self, from: Data(claimObject.json))
            if claim.spec?.volumeMode == "Block" {
                throw PodVolumeFailure(
                    description:
                        "\(what) is a block volume (claim \(namespace)/\(claimName) has volumeMode Block): \(PodVolumeSelection.blockNotSupported)"
                )
            }
            guard let volumeName = claim.spec?.volumeName, !volumeName.isEmpty else {
                throw PodVolumeFailure(
                    description: "claim \(namespace)/\(claimName) is not bound to a volume", transient: true)
            }
            directory = volumeName
            if let claimUID = claim.metadata.uid { identity = "pvc/\(claimUID)" }
        }
        let path = try await find(directory, podUID: uid, what: what)
        return Located(path: path, identity: identity)
    }

    /// The one `<root>/pods/<uid>/volumes/*/<directory>` (plus `mount` for CSI). A volume the kubelet set up as a
    /// raw device instead (`<root>/pods/<uid>/volumeDevices/*/<directory>`) is a failure that says so.
    private func find(_ directory: String, podUID: String, what: String) async throws -> String {
        let pod = "\(kubeletRoot)/pods/\(podUID)"
        let volumes = "\(pod)/volumes"
        let (matches, devices): ([String], [String]) = try await BlockingPool.shared.run {
            func entries(_ parent: String, suffix: (String) -> String, directoryOnly: Bool) throws -> [String] {
                guard try FileSystem.statusIfExists(parent)?.kind == .directory else { return [] }
                var found: [String] = []
                for plugin in try FileSystem.contentsOfDirectory(parent).sorted() {
                    let candidate = "\(parent)/\(plugin)/\(directory)" + suffix(plugin)
                    if let kind = try FileSystem.statusIfExists(candidate)?.kind, !directoryOnly || kind == .directory {
                        found.append(candidate)
                    }
                }
                return found
            }
            let matches = try entries(
                volumes, suffix: { $0 == "kubernetes.io~csi" ? "/mount" : "" }, directoryOnly: true)
            guard matches.isEmpty else { return (matches, []) }
            return (matches, try entries("\(pod)/volumeDevices", suffix: { _ in "" }, directoryOnly: false))
        }
        switch matches.count {
        case 1: return matches[0]
        case 0 where !devices.isEmpty:
            throw PodVolumeFailure(
                description:
                    "\(what) is a block volume (the kubelet attached it as a device, \(devices[0])): \(PodVolumeSelection.blockNotSupported)"
            )
        case 0:
            throw PodVolumeFailure(
                description:
                    "\(what): no directory \(volumes)/*/\(directory) on node (is the pod running here, and is --kubelet-root-dir right?)",
                transient: true)
        default:
            throw PodVolumeFailure(
                description: "\(what): several directories match: \(matches.joined(separator: ", "))")
        }
    }
}

/// The latest snapshot of one pod volume (by `PodVolumeLocator.Located.identity`), kept in the store at
/// `podvolumes/<sha256 of the identity>.json`, so the next backup of the same claim or pod volume, from any node,
/// is incremental against it.
struct PodVolumeLineage: Sendable {
    let repository: Repository
    let identity: String

    struct Entry: Codable {
        var identity: String
        var snapshot: String
    }

    var key: String {
        "podvolumes/" + Digest.sha256(Array(identity.utf8)).map { String(format: "%02x", $0) }.joined() + ".json"
    }

    /// The previous snapshot's name, when it still exists.
    func latest() async throws -> String? {
        guard let entry = try await repository.record(Entry.self, key: key), entry.identity == identity,
            try await repository.record(Snapshot.self, key: Snapshot.key(entry.snapshot)) != nil
        else { return nil }
        return entry.snapshot
    }

    func record(_ snapshot: String) async throws {
        try await StoreLock.withLock(.shared, repository: repository, operation: "pod volume \(identity)") {
            try await repository.commitRecord(Entry(identity: identity, snapshot: snapshot), key: key)
        }
    }
}
