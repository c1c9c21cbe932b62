import Collectors
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

    public func count(_ outcome: RestoreItemResult.Outcome) -> Int { items.count { $0.outcome == outcome } }
    public var errors: [String] {
        items.filter { $0.outcome == .failed }.map(\.errorMessage) + (hookErrors ?? []) + (volumeErrors ?? [])
    }
}
