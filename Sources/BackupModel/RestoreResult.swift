import Foundation

/// What happened to one object.
public struct RestoreItemResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case created, updated, skippedExists = "skipped-exists", skipped, failed
    }
    public var resource: String
    public var namespace: String?
    public var name: String
    public var outcome: Outcome
    public var message: String?

    public init(resource: String, namespace: String? = nil, name: String, outcome: Outcome, message: String? = nil) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.outcome = outcome
        self.message = message
    }

    /// How the restore's errors name a failed item: "resource namespace/name: message".
    public var errorMessage: String {
        "\(resource) \(namespace.map { "\($0)/" } ?? "")\(name): \(message ?? "")"
    }
}

/// The result of a restore, with Velero's phases.
public struct RestoreResult: Sendable, Codable {
    public enum Phase: String, Sendable, Codable {
        case completed = "Completed", partiallyFailed = "PartiallyFailed", failed = "Failed"
        /// The restore's options or its configuration in the cluster (resource modifiers, plugin ConfigMaps) were
        /// invalid; nothing was restored.
        case failedValidation = "FailedValidation"
    }
    public var phase: Phase
    public var items: [RestoreItemResult]
    public var warnings: [String]
    public var seconds: Double
    /// The restored pods' exec hooks that ran or were due.
    public var hooks: [HookRecord]?
    /// Failed hooks with onError Fail (the restore is PartiallyFailed).
    public var hookErrors: [String]?
    /// Errors that are not one object's: pod volumes the node agents did not restore.
    public var volumeErrors: [String]?

    public init(
        phase: Phase, items: [RestoreItemResult], warnings: [String], seconds: Double, hooks: [HookRecord]? = nil,
        hookErrors: [String]? = nil, volumeErrors: [String]? = nil
    ) {
        self.phase = phase
        self.items = items
        self.warnings = warnings
        self.seconds = seconds
        self.hooks = hooks
        self.hookErrors = hookErrors
        self.volumeErrors = volumeErrors
    }

    public func count(_ outcome: RestoreItemResult.Outcome) -> Int { items.count { $0.outcome == outcome } }
    public var errors: [String] {
        items.filter { $0.outcome == .failed }.map(\.errorMessage) + (hookErrors ?? []) + (volumeErrors ?? [])
    }
}

/// What happened to one volume's data.
public struct VolumeRestoreResult: Sendable, Codable, Equatable {
    public var persistentVolume: String
    public var path: String
    public var bytes: Int64
    public var seconds: Double
    public var error: String?
    /// The pod volume a node agent wrote, as restored (the new pod's namespace, uid and node); `path` is empty.
    public var podVolume: PodVolumeSource?

    public init(
        persistentVolume: String, path: String, bytes: Int64, seconds: Double, error: String? = nil,
        podVolume: PodVolumeSource? = nil
    ) {
        self.persistentVolume = persistentVolume
        self.path = path
        self.bytes = bytes
        self.seconds = seconds
        self.error = error
        self.podVolume = podVolume
    }
}
