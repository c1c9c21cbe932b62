import Foundation
import SystemIO
import VeleroAPI

extension NodeAgent {
    /// Where a PodVolumeBackup of a hostPath or local persistent volume is read: its path under the host's root as
    /// mounted here (`--host-root-dir`), which must be a directory. Incremental per persistent volume.
    func locateHostPath(_ path: String, of backup: PodVolumeBackup) async throws -> PodVolumeLocator.Located {
        let volume = backup.spec.volume
        let local = try hostPath(path, volume: volume)
        let kind = try await BlockingPool.shared.run { try FileSystem.status(local).kind }
        guard kind == .directory else {
            throw PodVolumeFailure(
                description:
                    "persistent volume \(volume): \(local) is not a directory on node \(configuration.nodeName) (is --host-root-dir right?)"
            )
        }
        return PodVolumeLocator.Located(path: local, identity: "pv/\(volume)")
    }

    /// `path` on the node as this process sees it, under `--host-root-dir`.
    func hostPath(_ path: String, volume: String) throws -> String {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw PodVolumeFailure(description: "persistent volume \(volume): path '\(path)' is not an absolute path")
        }
        let root = configuration.hostRootDirectory
        return root == "/" ? path : root + path
    }

    /// Restores a hostPath or local persistent volume into its path on this node, when the PodVolumeRestore names
    /// this node; the directory is made when it is missing (as hostPath's DirectoryOrCreate does). No done file:
    /// no init container waits for it.
    func restoreHostPath(_ object: PodVolumeRestore, path: String, access: ObjectAccess<PodVolumeRestore>)
        async throws
    {
        guard object.metadata.annotations?[PodVolumeRestore.nodeAnnotation] == configuration.nodeName else { return }
        _ = try await accept(object, access: access)
        let local: String
        do {
            local = try hostPath(path, volume: object.spec.volume)
            try await BlockingPool.shared.run { try FileSystem.makeDirectories(local) }
        } catch {
            if Task.isCancelled { throw error }
            return try await finish(object.name, access: access, failure: "\(error)")
        }
        if object.phase == .inProgress {
            logger.warning("PodVolumeRestore \(object.name) was left InProgress by an agent that stopped; redoing it")
        }
        let overwrite = object.metadata.annotations?[PodVolumeRestore.overwriteAnnotation] == "true"
        // A redo overwrites what the stopped agent wrote.
        try await write(
            object, into: local, restoreUID: nil, overwrite: overwrite || object.phase == .inProgress, access: access)
    }
}
