import Foundation
import Restorer
import SystemIO

/// The program of the `restore-wait` init container (`velero-cas restore-wait <restore uid>`): it returns once
/// every directory under `root` (`/restores`, where the container mounts each restored volume) holds the done file
/// `.velero/<restore uid>`, after removing those `.velero` directories, so the pod's application containers start
/// only on complete data. It looks every `interval` and gives up after `timeout` (Velero's helper waits forever;
/// an init container that fails is restarted by the kubelet, and the failure says what it waited for).
public struct RestoreWait: Sendable {
    public var restoreUID: String
    public var root: String
    public var interval: Duration
    public var timeout: Duration
    /// Where progress lines go (standard output in the container).
    public var output: @Sendable (String) -> Void

    /// - Parameters:
    ///   - restoreUID: the done file's name (the restore's uid).
    ///   - root: where the volumes are mounted, one directory each.
    ///   - output: receives a line whenever what is waited for changes, and at the end.
    public init(
        restoreUID: String, root: String = PodVolumeRestoreNames.mountRoot, interval: Duration = .seconds(1),
        timeout: Duration = .seconds(4 * 3600), output: @escaping @Sendable (String) -> Void
    ) {
        self.restoreUID = restoreUID
        self.root = root
        self.interval = interval
        self.timeout = timeout
        self.output = output
    }

    /// Why the wait ended without releasing the pod.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case invalidRestoreUID(String)
        case missingRoot(String)
        case timedOut(missing: [String], after: Duration)

        public var description: String {
            switch self {
            case .invalidRestoreUID(let uid):
                "the restore uid '\(uid)' cannot name a done file (it must be non-empty, without '/')"
            case .missingRoot(let root):
                "\(root) is not a directory: the init container mounts each restored volume at \(root)/<volume>"
            case .timedOut(let missing, let after):
                "the node agent did not finish within \(after): no done file in \(missing.joined(separator: ", ")) (see the PodVolumeRestores of the restore)"
            }
        }
    }

    /// Whether `uid` can name the done file.
    public static func isValidRestoreUID(_ uid: String) -> Bool { RestoreDoneFile.isValidName(uid) }

    /// Waits for every volume's done file, removes the `.velero` directories, and returns the volumes' names.
    public func run() async throws -> [String] {
        guard Self.isValidRestoreUID(restoreUID) else { throw Failure.invalidRestoreUID(restoreUID) }
        let deadline = ContinuousClock.now + timeout
        var reported: [String]?
        while true {
            let (volumes, missing) = try await BlockingPool.shared.run { try scan() }
            if missing.isEmpty {
                output("all \(volumes.count) restored volumes under \(root) have their done file")
                for volume in volumes { await clean(volume) }
                return volumes
            }
            if missing != reported {
                reported = missing
                output(
                    "waiting for the node agent: \(volumes.count - missing.count) of \(volumes.count) volumes restored; no done file yet in \(missing.map { "\(root)/\($0)" }.joined(separator: ", "))"
                )
            }
            guard ContinuousClock.now + interval <= deadline else {
                throw Failure.timedOut(missing: missing.map { "\(root)/\($0)" }, after: timeout)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// The volume directories under the root and those without the done file. Blocking.
    private func scan() throws -> (volumes: [String], missing: [String]) {
        guard Self.isDirectory(root) else { throw Failure.missingRoot(root) }
        var volumes: [String] = []
        var missing: [String] = []
        for name in try FileSystem.contentsOfDirectory(root) {
            guard Self.isDirectory("\(root)/\(name)") else { continue }
            volumes.append(name)
            let done = RestoreDoneFile.path(volume: "\(root)/\(name)", restoreUID: restoreUID)
            var info = stat()
            if stat(done, &info) != 0 { missing.append(name) }
        }
        return (volumes, missing)
    }

    /// Removes a volume's `.velero` directory; a failure (the agent wrote it as root, this container runs as
    /// another user) is reported and does not hold the pod back, as in Velero.
    private func clean(_ volume: String) async {
        let directory = "\(root)/\(volume)/\(PodVolumeRestoreNames.doneDirectory)"
        do {
            try await BlockingPool.shared.run { try FileSystem.removeTree(directory) }
            output("removed \(directory)")
        } catch {
            output("could not remove \(directory): \(error)")
        }
    }

    /// A directory, following symlinks (a volume is a mount point).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
