import ChunkStore
import Foundation
import KubeClient
import SystemIO
import VeleroAPI

/// Why a pod volume cannot be backed up; the message goes on the PodVolumeBackup as it is.
struct PodVolumeFailure: Error, CustomStringConvertible {
    var description: String
    /// Whether waiting may cure it (the kubelet has not set the volume up yet); a restore waits, a backup fails.
    var transient = false
}

extension NodeAgent {
    /// Backs up one PodVolumeBackup of this node: New, or InProgress left by an agent that stopped (redone).
    func process(_ name: String) async throws {
        let access = ObjectAccess<PodVolumeBackup>(client: client, namespace: configuration.namespace)
        let object: PodVolumeBackup
        switch try await access.fetch(name) {
        case .missing: return
        case .malformed(let malformed, let reason):
            try await failMalformed(malformed, reason: reason, access: access)
            return
        case .object(let decoded): object = decoded
        }
        guard object.spec.node == configuration.nodeName, !object.phase.isFinal else { return }
        let redo = object.phase == .inProgress
        if redo { logger.warning("PodVolumeBackup \(name) was left InProgress by an agent that stopped; redoing it") }
        let started = Date()
        try await access.updateStatus(name) { backup in
            guard !backup.phase.isFinal else { return false }
            backup.status = backup.status ?? .init()
            backup.status?.phase = .inProgress
            backup.status?.startTimestamp = started
            backup.status?.message = redo ? "redone after the node agent restarted" : nil
            return true
        }
        let outcome: Result<(Snapshot, String), any Error>
        do {
            outcome = .success(try await backUp(object, access: access))
        } catch {
            if Task.isCancelled { throw error }
            outcome = .failure(error)
        }
        try await access.updateStatus(name) { backup in
            guard !backup.phase.isFinal else { return false }
            switch outcome {
            case .success(let (snapshot, path)):
                backup.status?.phase = .completed
                backup.status?.snapshotID = snapshot.name
                backup.status?.path = path
                backup.status?.progress = .init(
                    totalBytes: snapshot.summary.logicalBytes, bytesDone: snapshot.summary.logicalBytes)
                backup.status?.incrementalBytes = snapshot.summary.newStoredBytes
            case .failure(let error):
                backup.status?.phase = .failed
                backup.status?.message = "\(error)"
            }
            backup.status?.completionTimestamp = Date()
            return true
        }
        switch outcome {
        case .success(let (snapshot, path)):
            logger.info(
                "PodVolumeBackup \(name): \(path) as snapshot \(snapshot.name), \(snapshot.summary.logicalBytes) bytes, \(snapshot.summary.newStoredBytes) new"
            )
        case .failure(let error): logger.error("PodVolumeBackup \(name) failed: \(error)")
        }
    }

    /// Finds the volume's directory, backs it up against the volume's previous snapshot, and records it as that
    /// volume's latest. Returns the snapshot and the directory read.
    private func backUp(_ object: PodVolumeBackup, access: ObjectAccess<PodVolumeBackup>) async throws
        -> (Snapshot, String)
    {
        let locator = PodVolumeLocator(client: client, kubeletRoot: configuration.kubeletRootDirectory)
        let volume =
            if let hostPath = object.metadata.annotations?[PodVolumeBackup.hostPathAnnotation] {
                try await locateHostPath(hostPath, of: object)
            } else {
                try await locator.locate(object)
            }
        let location = try await storage.resolve(object.spec.backupStorageLocation, create: false)
        let repository = location.repository
        let name = "pvb.\(object.name)"
        let commit = object.metadata.annotations?[PodVolumeBackup.backupCommitAnnotation]
        // A snapshot committed before the agent stopped is this object's (same name, same backup commit).
        if let done = try await repository.record(Snapshot.self, key: Snapshot.key(name)),
            done.backupCommit == commit
        {
            return (done, volume.path)
        }
        let lineage = PodVolumeLineage(repository: repository, identity: volume.identity)
        let parent = try await lineage.latest()
        let snapshot = try await withProgress(object.name, access: access) { backup, now in
            guard backup.phase == .inProgress else { return false }
            backup.status?.progress = now
            return true
        } work: { progress in
            var tree = TreeBackup(
                repository: repository, fileConcurrency: self.configuration.fileConcurrency, progress: progress)
            tree.readThrottle = self.readThrottle
            do {
                return try await tree.run(source: volume.path, name: name, parent: parent, backupCommit: commit)
            } catch ChunkStoreError.snapshotNotFound(_, _) where parent != nil {
                // The parent expired meanwhile: a full read (unchanged data still deduplicates).
                return try await tree.run(source: volume.path, name: name, backupCommit: commit)
            }
        }
        try await lineage.record(snapshot.name)
        return (snapshot, volume.path)
    }
}
