import ChunkStore
import Foundation
import KubeClient
import Restorer
import SystemIO
import VeleroAPI

/// The node agent's restore side: a PodVolumeRestore names a restored pod, and the agent of the node the pod is
/// scheduled on takes it (Accepted, `status.node`), waits (bounded by `volumeWaitTimeout`, counted from the
/// acceptance) for the kubelet to make the pod's volume directory, writes the snapshot into it (InProgress, with
/// progress), and only then the done file that releases the pod's `restore-wait` init container.
extension NodeAgent {
    private struct RestoredPod: Decodable {
        struct Meta: Decodable { var uid: String? }
        struct Spec: Decodable { var nodeName: String? }
        struct ContainerStatus: Decodable {
            struct State: Decodable {
                struct Terminated: Decodable { var exitCode: Int? }
                var terminated: Terminated?
            }
            var name: String
            var state: State?
        }
        struct Status: Decodable { var initContainerStatuses: [ContainerStatus]? }
        var metadata: Meta
        var spec: Spec?
        var status: Status?

        /// Whether the kubelet reports the `restore-wait` container finished: the pod was released.
        var released: Bool {
            status?.initContainerStatuses?.contains {
                $0.name == PodVolumeRestoreNames.waitContainer && $0.state?.terminated?.exitCode == 0
            } ?? false
        }
    }

    /// Handles one PodVolumeRestore; returns how long to wait before looking at it again, nil when this agent has
    /// nothing more to do with it.
    func processRestore(_ name: String) async throws -> Duration? {
        let access = ObjectAccess<PodVolumeRestore>(client: client, namespace: configuration.namespace)
        let object: PodVolumeRestore
        switch try await access.fetch(name) {
        case .missing: return nil
        case .malformed(let malformed, let reason):
            try await failMalformed(malformed, reason: reason, access: access)
            return nil
        case .object(let decoded): object = decoded
        }
        guard !object.phase.isFinal else { return nil }
        if let node = object.status?.node, !node.isEmpty, node != configuration.nodeName { return nil }
        if let hostPath = object.metadata.annotations?[PodVolumeBackup.hostPathAnnotation] {
            try await restoreHostPath(object, path: hostPath, access: access)
            return nil
        }
        let podName = "\(object.spec.pod.namespace ?? "")/\(object.spec.pod.name ?? "")"
        let pod: RestoredPod
        do {
            let json = try await client.get(
                PodVolumeStep.pods, namespace: object.spec.pod.namespace ?? "", name: object.spec.pod.name ?? "")
            pod = try JSONDecoder().decode(RestoredPod.self, from: Data(json.json))
        } catch let error as KubeAPIError where error.isNotFound {
            try await finish(name, access: access, failure: "pod \(podName) no longer exists")
            return nil
        }
        if let expected = object.spec.pod.uid, pod.metadata.uid != expected {
            try await finish(
                name, access: access,
                failure: "pod \(podName) was replaced (uid \(pod.metadata.uid ?? "none"), expected \(expected))")
            return nil
        }
        // Not scheduled yet: every agent looks again, until the wait for the volume would be over anyway;
        // scheduled elsewhere: another agent's.
        guard let node = pod.spec?.nodeName, !node.isEmpty else {
            let created = object.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? Date()
            let timeout = configuration.volumeWaitTimeout
            guard Date() < created.addingTimeInterval(Self.seconds(timeout)) else {
                try await finish(
                    name, access: access, failure: "pod \(podName) was not scheduled on a node within \(timeout)")
                return nil
            }
            return configuration.restorePollInterval
        }
        guard node == configuration.nodeName else { return nil }
        guard let uid = object.metadata.labels?[PodVolumeRestore.restoreUIDLabel], RestoreDoneFile.isValidName(uid)
        else {
            try await finish(
                name, access: access,
                failure:
                    "label \(PodVolumeRestore.restoreUIDLabel) is missing or not a valid file name: the done file cannot be named"
            )
            return nil
        }
        let accepted = try await accept(object, access: access)
        let path: String
        do {
            path = try await PodVolumeLocator(client: client, kubeletRoot: configuration.kubeletRootDirectory)
                .locate(pod: object.spec.pod, volume: object.spec.volume).path
        } catch let failure as PodVolumeFailure {
            let timeout = configuration.volumeWaitTimeout
            if failure.transient && Date() < accepted.addingTimeInterval(Self.seconds(timeout)) {
                return configuration.restorePollInterval
            }
            try await finish(
                name, access: access,
                failure: failure.transient ? "\(failure) after waiting \(timeout) for the kubelet" : "\(failure)")
            return nil
        }
        if object.phase == .inProgress {
            // Left InProgress by an agent that stopped. Once the done file is written (or the pod released), the
            // data is whole and the application may already use it: it is not written again.
            let done = try await BlockingPool.shared.run {
                try RestoreDoneFile.exists(volume: path, restoreUID: uid)
            }
            if done || pod.released {
                logger.info("PodVolumeRestore \(name): the volume was written before the node agent restarted")
                try await finish(name, access: access, failure: nil, bytes: object.spec.snapshotSize)
                return nil
            }
            logger.warning("PodVolumeRestore \(name) was left InProgress by an agent that stopped; redoing it")
        }
        try await write(object, into: path, restoreUID: uid, access: access)
        return nil
    }

    /// Marks the object Accepted by this node (once) and returns when it was accepted.
    func accept(_ object: PodVolumeRestore, access: ObjectAccess<PodVolumeRestore>) async throws -> Date {
        if object.phase != .new, let accepted = object.status?.acceptedTimestamp { return accepted }
        let now = Date()
        let node = configuration.nodeName
        let written = try await access.updateStatus(object.name) { restore in
            guard restore.phase == .new else { return false }
            var status = restore.status ?? .init()
            status.phase = .accepted
            status.node = node
            status.acceptedTimestamp = now
            status.message = "waiting for the kubelet to set up the pod's volume directory"
            restore.status = status
            return true
        }
        return written?.status?.acceptedTimestamp ?? now
    }

    /// Writes the snapshot into the volume's directory (overwriting what is there unless told not to), then, for a
    /// pod's volume (`restoreUID`), the done file, and records the outcome.
    func write(
        _ object: PodVolumeRestore, into path: String, restoreUID: String?, overwrite: Bool = true,
        access: ObjectAccess<PodVolumeRestore>
    ) async throws {
        let name = object.name
        let redo = object.phase == .inProgress
        try await access.updateStatus(name) { restore in
            guard !restore.phase.isFinal else { return false }
            restore.status = restore.status ?? .init()
            restore.status?.phase = .inProgress
            restore.status?.node = configuration.nodeName
            restore.status?.startTimestamp = Date()
            restore.status?.message = redo ? "redone after the node agent restarted" : nil
            restore.status?.progress = .init(totalBytes: object.spec.snapshotSize, bytesDone: 0)
            return true
        }
        let snapshot = object.spec.snapshotID
        do {
            let location = try await storage.resolve(object.spec.backupStorageLocation, create: false)
            let fileConcurrency = configuration.fileConcurrency
            let summary = try await withProgress(name, access: access) { restore, now in
                guard restore.phase == .inProgress else { return false }
                restore.status?.progress = now
                return true
            } work: { progress in
                if restoreUID != nil {
                    try await BlockingPool.shared.run { try RestoreDoneFile.removeDirectory(volume: path) }
                }
                // The tree is on disk before the done file is written (each file fsynced, then its directories).
                var tree = TreeRestore(
                    repository: location.repository, fileConcurrency: fileConcurrency, progress: progress,
                    durable: restoreUID != nil)
                tree.writeThrottle = self.writeThrottle
                return try await tree.run(snapshot: snapshot, into: path, overwrite: overwrite)
            }
            if let restoreUID {
                try await BlockingPool.shared.run { try RestoreDoneFile.write(volume: path, restoreUID: restoreUID) }
            }
            let rate = summary.seconds > 0 ? Double(summary.bytes) / summary.seconds / 1e6 : 0
            logger.info(
                "PodVolumeRestore \(name): snapshot \(snapshot) written into \(path), \(summary.bytes) bytes in \(summary.files) files, \(summary.seconds) s (\(Int(rate)) MB/s)"
            )
            try await finish(name, access: access, failure: nil, bytes: summary.bytes)
        } catch {
            if Task.isCancelled { throw error }
            try await finish(name, access: access, failure: "writing snapshot \(snapshot) into \(path): \(error)")
        }
    }

    /// Completed (with the bytes written) or Failed (with the reason).
    func finish(
        _ name: String, access: ObjectAccess<PodVolumeRestore>, failure: String?, bytes: Int64? = nil
    ) async throws {
        if let failure { logger.error("PodVolumeRestore \(name) failed: \(failure)") }
        let node = configuration.nodeName
        try await access.updateStatus(name) { restore in
            guard !restore.phase.isFinal else { return false }
            var status = restore.status ?? .init()
            status.phase = failure == nil ? .completed : .failed
            status.node = status.node ?? node
            if let failure { status.message = failure }
            if let bytes { status.progress = .init(totalBytes: bytes, bytesDone: bytes) }
            status.completionTimestamp = Date()
            restore.status = status
            return true
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
