import Foundation

/// Velero's results file (DownloadRequest targets `BackupResults`, `RestoreResults`): the errors and the warnings
/// of a run, each split into those about velero itself, the cluster (cluster-scoped objects) and each namespace.
public struct RunResults: Codable, Equatable, Sendable {
    public struct Messages: Codable, Equatable, Sendable {
        public var velero: [String]?
        public var cluster: [String]?
        public var namespaces: [String: [String]]?

        public init() {}

        /// Adds a message about a namespace, or about the cluster when `namespace` is nil.
        public mutating func add(_ message: String, namespace: String?) {
            if let namespace {
                namespaces = namespaces ?? [:]
                namespaces![namespace, default: []].append(message)
            } else {
                cluster = (cluster ?? []) + [message]
            }
        }

        /// Adds a message about velero itself.
        public mutating func addVelero(_ message: String) { velero = (velero ?? []) + [message] }
    }

    public var errors = Messages()
    public var warnings = Messages()

    public init() {}
}

/// One volume of a backup, as Velero's volume information file (DownloadRequest target `BackupVolumeInfos`,
/// `<backup>-volumeinfo.json.gz`) describes it. Pod volumes read by a node agent are `PodVolumeBackup`s, as in
/// Velero; persistent volumes read from their path have velero-cas's own method `PathBackup` (Velero has no such
/// method: it snapshots those or reads them through a pod). `path`, `files`, `bytes` and `newStoredBytes` are
/// velero-cas's own fields, and `skippedReason` also says why a pod volume failed.
public struct BackupVolumeInfo: Codable, Equatable, Sendable {
    public struct PodVolumeInfo: Codable, Equatable, Sendable {
        public var snapshotHandle: String?
        public var uploaderType: String
        public var volumeName: String
        public var podName: String
        public var podNamespace: String
        public var nodeName: String?

        public init(
            snapshotHandle: String?, uploaderType: String, volumeName: String, podName: String, podNamespace: String,
            nodeName: String?
        ) {
            self.snapshotHandle = snapshotHandle
            self.uploaderType = uploaderType
            self.volumeName = volumeName
            self.podName = podName
            self.podNamespace = podNamespace
            self.nodeName = nodeName
        }
    }

    public static let podVolumeBackup = "PodVolumeBackup"
    public static let pathBackup = "PathBackup"
    public static let uploaderType = "velero-cas"

    public var pvcName: String?
    public var pvcNamespace: String?
    public var pvName: String?
    public var backupMethod: String?
    public var snapshotDataMoved: Bool? = false
    public var preserveLocalSnapshot: Bool? = false
    public var skipped: Bool?
    public var skippedReason: String?
    /// "succeeded" or "failed".
    public var result: String?
    public var pvbInfo: PodVolumeInfo?
    public var path: String?
    public var files: Int?
    public var bytes: Int64?
    public var newStoredBytes: Int64?

    public init() {}
}
