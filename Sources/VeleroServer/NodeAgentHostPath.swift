import Foundation
import SystemIO
import VeleroAPI

extension NodeAgent {
    /// Where a PodVolumeBackup of a hostPath or local persistent volume is read: its path under the host's root as
    /// mounted here (`--host-root-dir`), which must be a directory. Incremental per persistent volume.
    func locateHostPath(_ path: String, of backup: PodVolumeBackup) async throws -> PodVolumeLocator.Located {
        let volume = backup.spec.volume
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw PodVolumeFailure(description: "persistent volume \(volume): path '\(path)' is not an absolute path")
        }
        let root = configuration.hostRootDirectory
        let local = root == "/" ? path : root + path
        let kind = try await BlockingPool.shared.run { try FileSystem.status(local).kind }
        guard kind == .directory else {
            throw PodVolumeFailure(
                description:
                    "persistent volume \(volume): \(local) is not a directory on node \(configuration.nodeName) (is --host-root-dir right?)"
            )
        }
        return PodVolumeLocator.Located(path: local, identity: "pv/\(volume)")
    }
}
