import Foundation
import Restorer
import SystemIO

/// The done file of a restored pod volume, `<volume>/.velero/<restore uid>`: the node agent writes it once every
/// byte of the volume is in place, and the pod's `restore-wait` init container waits for it in each volume.
/// Blocking calls: run them on `BlockingPool`.
enum RestoreDoneFile {
    /// `.velero/<uid>` inside `volume`.
    static func path(volume: String, restoreUID: String) -> String {
        "\(volume)/\(PodVolumeRestoreNames.doneDirectory)/\(restoreUID)"
    }

    /// Whether `uid` can name a file: not empty, no `/`, not `.` or `..`, no NUL, at most 253 bytes (a uid is
    /// 36).
    static func isValidName(_ uid: String) -> Bool {
        !uid.isEmpty && uid != "." && uid != ".." && !uid.contains("/") && !uid.contains("\0") && uid.utf8.count <= 253
    }

    /// Done files of earlier restores of the same data: removed before writing, as Velero does.
    static func removeDirectory(volume: String) throws {
        try FileSystem.removeTree("\(volume)/\(PodVolumeRestoreNames.doneDirectory)")
    }

    /// Called once the volume's tree is durable (`TreeRestore.durable`): writes the done
    /// file atomically (a temporary file, fsync, rename, fsync of `.velero` and of the volume's directory), so the
    /// init container can never see a done file ahead of the data or a half-written one.
    static func write(volume: String, restoreUID: String) throws {
        let root = try FileDescriptor.openDirectory(volume)
        defer { root.close() }
        let directory = "\(volume)/\(PodVolumeRestoreNames.doneDirectory)"
        try FileSystem.makeDirectory(directory, mode: 0o755)
        try [UInt8]().withUnsafeBytes {
            try FileSystem.writeAtomically(path(volume: volume, restoreUID: restoreUID), bytes: $0, mode: 0o644)
        }
        try root.sync()
    }

    static func exists(volume: String, restoreUID: String) throws -> Bool {
        try FileSystem.statusIfExists(path(volume: volume, restoreUID: restoreUID)) != nil
    }
}
