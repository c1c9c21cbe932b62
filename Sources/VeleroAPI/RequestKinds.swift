import Foundation
import KubeClient

// MARK: - DownloadRequest

/// A request for one of a backup's or restore's files (its log, its contents, its results…): the server answers
/// with a URL that serves the file for a limited time (Velero: 10 minutes), then deletes the request.
public struct DownloadRequest: VeleroKind, Equatable {
    public static let kind = "DownloadRequest"
    public static let plural = "downloadrequests"

    /// What to download (Velero's DownloadTargetKind values).
    public struct TargetKind: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let backupLog: TargetKind = "BackupLog"
        public static let backupContents: TargetKind = "BackupContents"
        public static let backupVolumeSnapshots: TargetKind = "BackupVolumeSnapshots"
        public static let backupItemOperations: TargetKind = "BackupItemOperations"
        public static let backupResourceList: TargetKind = "BackupResourceList"
        public static let backupResults: TargetKind = "BackupResults"
        public static let restoreLog: TargetKind = "RestoreLog"
        public static let restoreResults: TargetKind = "RestoreResults"
        public static let restoreResourceList: TargetKind = "RestoreResourceList"
        public static let restoreItemOperations: TargetKind = "RestoreItemOperations"
        public static let csiBackupVolumeSnapshots: TargetKind = "CSIBackupVolumeSnapshots"
        public static let csiBackupVolumeSnapshotContents: TargetKind = "CSIBackupVolumeSnapshotContents"
        public static let backupVolumeInfos: TargetKind = "BackupVolumeInfos"
        public static let restoreVolumeInfo: TargetKind = "RestoreVolumeInfo"

        /// Every kind Velero defines, in its order.
        public static let all: [TargetKind] = [
            .backupLog, .backupContents, .backupVolumeSnapshots, .backupItemOperations, .backupResourceList,
            .backupResults, .restoreLog, .restoreResults, .restoreResourceList, .restoreItemOperations,
            .csiBackupVolumeSnapshots, .csiBackupVolumeSnapshotContents, .backupVolumeInfos, .restoreVolumeInfo,
        ]

        /// Whether the target names a restore (else a backup).
        public var isRestore: Bool { rawValue.hasPrefix("Restore") }
    }

    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let new: Phase = "New"
        public static let processed: Phase = "Processed"
    }

    public struct Target: Codable, Sendable, Equatable {
        public var kind: TargetKind
        /// The Backup's or Restore's name.
        public var name: String
        public init(kind: TargetKind, name: String) {
            self.kind = kind
            self.name = name
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var target: Target
        public init(target: Target) { self.target = target }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        /// Where the file can be fetched until `expiration` (a presigned S3 URL, or file:// for a local location).
        public var downloadURL: String?
        public var expiration: Date?
        /// velero-cas's own: why there is no URL (the target does not exist, has no such file…).
        public var message: String?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = DownloadRequest.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// A request named `<target name>-` plus a server-generated suffix, as Velero's CLI names its own.
    public init(target: Target, namespace: String) {
        metadata = ObjectMeta(generateName: "\(target.name)-", namespace: namespace)
        spec = Spec(target: target)
    }

    public var phase: Phase { status?.phase ?? .new }
}

// MARK: - ServerStatusRequest

/// A request for the server's version and plugins (`velero version`, `velero plugin get`); processed requests are
/// deleted after a minute.
public struct ServerStatusRequest: VeleroKind, Equatable {
    public static let kind = "ServerStatusRequest"
    public static let plural = "serverstatusrequests"

    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let new: Phase = "New"
        public static let processed: Phase = "Processed"
    }

    public struct Spec: Codable, Sendable, Equatable {
        public init() {}
    }

    /// A plugin the server runs: its name and kind (ObjectStore, BackupItemAction, …).
    public struct PluginInfo: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public init(name: String, kind: String) {
            self.name = name
            self.kind = kind
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        public var processedTimestamp: Date?
        public var serverVersion: String?
        public var plugins: [PluginInfo]?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = ServerStatusRequest.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(generateName: String = "velero-cli-", namespace: String) {
        metadata = ObjectMeta(generateName: generateName, namespace: namespace)
        spec = Spec()
    }

    private enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    /// The spec has no fields, so a request written without one (`kubectl create` of just the metadata) is valid.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(Status.self, forKey: .status)
    }

    public var phase: Phase { status?.phase ?? .new }
}
