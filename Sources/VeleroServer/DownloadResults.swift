import BackupModel
import Collectors
import Foundation
import Restorer
import VeleroAPI

/// The results file of a backup or restore, from its record.
///
/// A restore's failed items carry their namespace, so its errors are split exactly. Backups keep their messages as
/// text: a message that names a pod (`pod volume <namespace>/<pod>/…`, `pod <namespace>/<pod>: …`, as the pod
/// volume step writes them) goes to that namespace, one about a persistent volume (cluster-scoped) to the
/// cluster, and any other to velero.
extension RunResults {
    init(backup record: BackupRecord) {
        self.init()
        for error in record.errors { Self.classify(error, into: &errors) }
        for warning in record.warnings { Self.classify(warning, into: &warnings) }
    }

    init(restore record: RestoreRecord) {
        self.init()
        var itemErrors: Set<String> = []
        for item in record.items where item.outcome == .failed {
            let message = item.errorMessage
            errors.add(message, namespace: item.namespace)
            itemErrors.insert(message)
        }
        for error in record.errors where !itemErrors.contains(error) { errors.addVelero(error) }
        for volume in record.volumes {
            if let error = volume.error {
                errors.add("persistent volume \(volume.persistentVolume): \(error)", namespace: nil)
            }
        }
        for warning in record.warnings { Self.classify(warning, into: &warnings) }
    }

    /// Puts a message where its text says it belongs (see above).
    private static func classify(_ message: String, into messages: inout Messages) {
        for prefix in ["pod volume ", "pod "] where message.hasPrefix(prefix) {
            let rest = message.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/"), slash > rest.startIndex {
                let namespace = String(rest[..<slash])
                if !namespace.contains(" ") { return messages.add(message, namespace: namespace) }
            }
        }
        if message.hasPrefix("persistent volume ") { return messages.add(message, namespace: nil) }
        messages.addVelero(message)
    }
}

extension BackupVolumeInfo {
    /// The entry of a volume the backup's record holds.
    init(_ volume: VolumeRecord) {
        self.init()
        if let claim = volume.claim, let slash = claim.firstIndex(of: "/") {
            pvcNamespace = String(claim[..<slash])
            pvcName = String(claim[claim.index(after: slash)...])
        }
        pvName = volume.persistentVolume.isEmpty ? nil : volume.persistentVolume
        backupMethod = volume.podVolume == nil ? Self.pathBackup : Self.podVolumeBackup
        skipped = volume.skipped != nil && volume.podVolume == nil
        skippedReason = volume.skipped
        result = volume.snapshot != nil ? "succeeded" : "failed"
        if let pod = volume.podVolume {
            pvbInfo = PodVolumeInfo(
                snapshotHandle: volume.snapshot, uploaderType: Self.uploaderType, volumeName: pod.volume,
                podName: pod.pod, podNamespace: pod.namespace, nodeName: pod.node)
        }
        path = volume.path.isEmpty ? nil : volume.path
        if volume.snapshot != nil {
            files = volume.files
            bytes = volume.logicalBytes
            newStoredBytes = volume.newStoredBytes
        }
    }
}
