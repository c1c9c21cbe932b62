import Foundation
import KubeClient

/// A phase as a string that tolerates values this version does not know (a newer Velero's, a typo): unknown
/// phases decode and compare unequal to every known one instead of failing the whole object.
public protocol OpenPhase: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral
where RawValue == String {
    init(rawValue: String)
}

extension OpenPhase {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
}

/// The phases of a backup or a restore (Velero's BackupPhase and RestorePhase share these values; Deleting is
/// a backup's only).
public struct RunPhase: OpenPhase {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let new: RunPhase = "New"
    public static let inProgress: RunPhase = "InProgress"
    public static let completed: RunPhase = "Completed"
    public static let partiallyFailed: RunPhase = "PartiallyFailed"
    public static let failed: RunPhase = "Failed"
    public static let failedValidation: RunPhase = "FailedValidation"
    public static let deleting: RunPhase = "Deleting"

    /// Phases after which the server does nothing more with the object (until a backup is deleted).
    public var isFinal: Bool { [.completed, .partiallyFailed, .failed, .failedValidation].contains(self) }
}

/// The status fields backups and restores share, so their controllers share the code that judges and fails them.
public protocol RunStatus: Codable, Sendable {
    init(phase: RunPhase?)
    var phase: RunPhase? { get set }
    var validationErrors: [String]? { get set }
    var failureReason: String? { get set }
    var startTimestamp: Date? { get set }
    var completionTimestamp: Date? { get set }
    var errors: Int? { get set }
    var warnings: Int? { get set }
}

/// A Backup or a Restore: a kind the server runs once and records the outcome of.
public protocol RunKind: VeleroKind where Status: RunStatus {}

extension RunKind {
    /// The phase; an object without one is New.
    public var phase: RunPhase { status?.phase ?? .new }
}

// MARK: - Backup

public struct Backup: RunKind, Equatable {
    public static let kind = "Backup"
    public static let plural = "backups"

    public typealias Phase = RunPhase

    public struct Spec: Codable, Sendable, Equatable {
        public struct Metadata: Codable, Sendable, Equatable {
            public var labels: [String: String]?
            public init(labels: [String: String]? = nil) { self.labels = labels }
        }
        public var metadata: Metadata?
        public var includedNamespaces: [String]?
        public var excludedNamespaces: [String]?
        public var includedResources: [String]?
        public var excludedResources: [String]?
        public var includedClusterScopedResources: [String]?
        public var excludedClusterScopedResources: [String]?
        public var includedNamespaceScopedResources: [String]?
        public var excludedNamespaceScopedResources: [String]?
        public var labelSelector: LabelSelectorSpec?
        public var orLabelSelectors: [LabelSelectorSpec]?
        public var snapshotVolumes: Bool?
        /// metav1.Duration, e.g. "720h0m0s"; absent means the server's default (720h).
        public var ttl: String?
        public var includeClusterResources: Bool?
        public var storageLocation: String?
        public var volumeSnapshotLocations: [String]?
        public var defaultVolumesToFsBackup: Bool?
        public var orderedResources: [String: String]?
        public var csiSnapshotTimeout: String?
        public var itemOperationTimeout: String?
        public var snapshotMoveData: Bool?
        public var datamover: String?
        /// Commands run in pods before and after their backup (the pods' hook annotations win).
        public var hooks: BackupHooks?

        public init() {}
    }

    public struct Progress: Codable, Sendable, Equatable {
        public var totalItems: Int?
        public var itemsBackedUp: Int?
        public init(totalItems: Int? = nil, itemsBackedUp: Int? = nil) {
            self.totalItems = totalItems
            self.itemsBackedUp = itemsBackedUp
        }
    }

    public struct Status: RunStatus, Equatable {
        public var version: Int?
        public var formatVersion: String?
        public var expiration: Date?
        public var phase: Phase?
        public var queuePosition: Int?
        public var validationErrors: [String]?
        public var startTimestamp: Date?
        public var completionTimestamp: Date?
        public var volumeSnapshotsAttempted: Int?
        public var volumeSnapshotsCompleted: Int?
        public var failureReason: String?
        /// Counts, as Velero keeps them; the messages are in the backup's record and log.
        public var warnings: Int?
        public var errors: Int?
        public var progress: Progress?
        public var hookStatus: HookStatus?

        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = Backup.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(name: String, namespace: String, spec: Spec = Spec()) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        self.spec = spec
    }
}

// MARK: - Restore

public struct Restore: RunKind, Equatable {
    public static let kind = "Restore"
    public static let plural = "restores"

    public typealias Phase = RunPhase

    public struct Spec: Codable, Sendable, Equatable {
        public struct RestoreStatusSpec: Codable, Sendable, Equatable {
            public var includedResources: [String]?
            public var excludedResources: [String]?
            public init(includedResources: [String]? = nil, excludedResources: [String]? = nil) {
                self.includedResources = includedResources
                self.excludedResources = excludedResources
            }
        }
        /// corev1.TypedLocalObjectReference.
        public struct LocalObjectReference: Codable, Sendable, Equatable {
            public var apiGroup: String?
            public var kind: String
            public var name: String
            public init(apiGroup: String? = nil, kind: String, name: String) {
                self.apiGroup = apiGroup
                self.kind = kind
                self.name = name
            }
        }
        public var backupName: String?
        public var scheduleName: String?
        public var includedNamespaces: [String]?
        public var excludedNamespaces: [String]?
        public var includedResources: [String]?
        public var excludedResources: [String]?
        public var namespaceMapping: [String: String]?
        public var labelSelector: LabelSelectorSpec?
        public var orLabelSelectors: [LabelSelectorSpec]?
        public var restorePVs: Bool?
        public var restoreStatus: RestoreStatusSpec?
        public var preserveNodePorts: Bool?
        public var includeClusterResources: Bool?
        /// "none" or "update".
        public var existingResourcePolicy: String?
        public var itemOperationTimeout: String?
        public var resourceModifier: LocalObjectReference?
        /// Init containers and exec hooks for restored pods (the pods' hook annotations win).
        public var hooks: RestoreHooks?

        public init(backupName: String? = nil) { self.backupName = backupName }
    }

    public struct Progress: Codable, Sendable, Equatable {
        public var totalItems: Int?
        public var itemsRestored: Int?
        public init(totalItems: Int? = nil, itemsRestored: Int? = nil) {
            self.totalItems = totalItems
            self.itemsRestored = itemsRestored
        }
    }

    public struct Status: RunStatus, Equatable {
        public var phase: Phase?
        public var validationErrors: [String]?
        public var warnings: Int?
        public var errors: Int?
        public var failureReason: String?
        public var startTimestamp: Date?
        public var completionTimestamp: Date?
        public var progress: Progress?
        public var hookStatus: HookStatus?

        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = Restore.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(name: String, namespace: String, spec: Spec = Spec()) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        self.spec = spec
    }
}

// MARK: - Schedule

public struct Schedule: VeleroKind, Equatable {
    public static let kind = "Schedule"
    public static let plural = "schedules"

    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let new: Phase = "New"
        public static let enabled: Phase = "Enabled"
        public static let failedValidation: Phase = "FailedValidation"
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var template: Backup.Spec
        /// Five-field cron, or @every <duration>, @hourly, @daily…
        public var schedule: String
        public var useOwnerReferencesInBackup: Bool?
        public var paused: Bool?
        public var skipImmediately: Bool?

        public init(schedule: String, template: Backup.Spec = Backup.Spec()) {
            self.schedule = schedule
            self.template = template
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        public var lastBackup: Date?
        public var lastSkipped: Date?
        public var validationErrors: [String]?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = Schedule.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(name: String, namespace: String, spec: Spec) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        self.spec = spec
    }
}

// MARK: - BackupStorageLocation

public struct BackupStorageLocation: VeleroKind, Equatable {
    public static let kind = "BackupStorageLocation"
    public static let plural = "backupstoragelocations"

    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let available: Phase = "Available"
        public static let unavailable: Phase = "Unavailable"
    }

    public struct ObjectStorage: Codable, Sendable, Equatable {
        public var bucket: String
        public var prefix: String?
        public var caCert: String?
        public init(bucket: String, prefix: String? = nil) {
            self.bucket = bucket
            self.prefix = prefix
        }
    }

    /// corev1.SecretKeySelector.
    public struct SecretKeySelector: Codable, Sendable, Equatable {
        public var name: String
        public var key: String
        public var optional: Bool?
        public init(name: String, key: String) {
            self.name = name
            self.key = key
        }
    }

    public struct Spec: Codable, Sendable, Equatable {
        /// "aws" (S3 and compatible stores) or "local" (a directory: `config.path`).
        public var provider: String
        public var config: [String: String]?
        public var credential: SecretKeySelector?
        public var objectStorage: ObjectStorage?
        public var `default`: Bool?
        /// "ReadWrite" (default) or "ReadOnly".
        public var accessMode: String?
        public var backupSyncPeriod: String?
        public var validationFrequency: String?

        public init(provider: String, config: [String: String]? = nil, objectStorage: ObjectStorage? = nil) {
            self.provider = provider
            self.config = config
            self.objectStorage = objectStorage
        }

        public var isReadOnly: Bool { accessMode == "ReadOnly" }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        public var lastSyncedTime: Date?
        public var lastValidationTime: Date?
        public var message: String?
        public init(phase: Phase? = nil) { self.phase = phase }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = BackupStorageLocation.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(name: String, namespace: String, spec: Spec) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        self.spec = spec
    }
}

// MARK: - DeleteBackupRequest

public struct DeleteBackupRequest: VeleroKind, Equatable {
    public static let kind = "DeleteBackupRequest"
    public static let plural = "deletebackuprequests"

    public struct Phase: OpenPhase {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let new: Phase = "New"
        public static let inProgress: Phase = "InProgress"
        public static let processed: Phase = "Processed"
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var backupName: String
        public init(backupName: String) { self.backupName = backupName }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var phase: Phase?
        public var errors: [String]?
        public init(phase: Phase? = nil, errors: [String]? = nil) {
            self.phase = phase
            self.errors = errors
        }
    }

    public var apiVersion: String? = Velero.apiVersion
    public var kind: String? = DeleteBackupRequest.kind
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// A request named `<backup>-` plus a server-generated suffix, labelled with the backup's name and uid as
    /// Velero labels its own.
    public init(backupName: String, backupUID: String?, namespace: String) {
        var labels = [Velero.backupNameLabel: backupName]
        if let backupUID { labels[Velero.backupUIDLabel] = backupUID }
        metadata = ObjectMeta(generateName: "\(backupName)-", namespace: namespace, labels: labels)
        spec = Spec(backupName: backupName)
    }

    public var phase: Phase { status?.phase ?? .new }
}
