import Foundation
import KubeClient

/// The API group and version every Velero kind lives in.
public enum Velero {
    public static let group = "velero.io"
    public static let version = "v1"
    public static let apiVersion = "velero.io/v1"

    /// Label Velero puts on a backup made by a schedule.
    public static let scheduleNameLabel = "velero.io/schedule-name"
    /// Labels Velero puts on a DeleteBackupRequest.
    public static let backupNameLabel = "velero.io/backup-name"
    public static let backupUIDLabel = "velero.io/backup-uid"
    public static let restoreNameLabel = "velero.io/restore-name"
    /// Label Velero puts on a backup with its storage location's name.
    public static let storageLocationLabel = "velero.io/storage-location"

    /// Decodes what the API server returns: unknown fields are ignored, times are RFC 3339 (with or without
    /// fractional seconds).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = KubeTime.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an RFC 3339 time")
            }
            return date
        }
        return decoder
    }

    /// Encodes as the API server expects: times in RFC 3339 at second precision (metav1.Time), stable key order.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(KubeTime.format(date))
        }
        return encoder
    }
}

/// metav1.Time: RFC 3339, UTC, whole seconds.
public enum KubeTime {
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }

    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// One of Velero's kinds: metadata, spec and status, and where the API server serves it.
public protocol VeleroKind: Codable, Sendable {
    associatedtype Spec: Codable, Sendable
    associatedtype Status: Codable, Sendable
    static var kind: String { get }
    /// The plural resource name, e.g. "backups".
    static var plural: String { get }
    var metadata: ObjectMeta { get set }
    var spec: Spec { get set }
    var status: Status? { get set }
}

extension VeleroKind {
    public static var resource: APIResource {
        APIResource(
            group: Velero.group, version: Velero.version, name: plural, singularName: kind.lowercased(), kind: kind,
            namespaced: true)
    }

    public var name: String { metadata.name ?? "" }

    /// Decodes an object as the API server returned it.
    public static func decode(_ json: [UInt8]) throws -> Self {
        try Velero.decoder().decode(Self.self, from: Data(json))
    }

    public func encoded() throws -> [UInt8] { Array(try Velero.encoder().encode(self)) }
}

/// metav1.LabelSelector: `matchLabels` and `matchExpressions`.
public struct LabelSelectorSpec: Codable, Sendable, Equatable {
    public struct Requirement: Codable, Sendable, Equatable {
        public var key: String
        /// In, NotIn, Exists, DoesNotExist.
        public var `operator`: String
        public var values: [String]?

        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public var matchLabels: [String: String]?
    public var matchExpressions: [Requirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// The selector in the query syntax (`a=b,c in (x,y),!d`), or an error naming what is wrong.
    public func selectorString() throws(VeleroValidationError) -> String {
        var terms = (matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for requirement in matchExpressions ?? [] {
            let values = (requirement.values ?? []).sorted()
            switch requirement.operator {
            case "In", "NotIn":
                guard !values.isEmpty else {
                    throw VeleroValidationError(
                        "label selector: operator \(requirement.operator) on '\(requirement.key)' needs values")
                }
                let op = requirement.operator == "In" ? "in" : "notin"
                terms.append("\(requirement.key) \(op) (\(values.joined(separator: ",")))")
            case "Exists", "DoesNotExist":
                guard values.isEmpty else {
                    throw VeleroValidationError(
                        "label selector: operator \(requirement.operator) on '\(requirement.key)' takes no values")
                }
                terms.append(requirement.operator == "Exists" ? requirement.key : "!\(requirement.key)")
            default:
                throw VeleroValidationError(
                    "label selector: '\(requirement.operator)' is not a valid operator (In, NotIn, Exists, DoesNotExist)"
                )
            }
        }
        return terms.joined(separator: ",")
    }
}

/// A reason an object's spec cannot be processed; it ends up in `status.validationErrors`.
public struct VeleroValidationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// metav1.Duration as Velero writes it ("720h0m0s", "1h30m", "90s", "500ms").
public enum KubeDuration {
    /// Seconds, or nil when the text is not a Go duration.
    public static func seconds(_ text: String) -> Double? { GoDuration.seconds(text) }

    /// Whole seconds in Go's form: 2592000 → "720h0m0s".
    public static func format(seconds: Int) -> String {
        "\(seconds / 3600)h\(seconds % 3600 / 60)m\(seconds % 60)s"
    }
}

extension LabelSelectorSpec {
    /// The selector a user typed (`a=b,c in (x,y),!d`) as the object form Velero's specs hold: equality terms in
    /// `matchLabels`, the rest as `matchExpressions` (`a!=b` is `NotIn [b]`).
    public init(_ selector: LabelSelector) {
        var labels: [String: String] = [:]
        var expressions: [Requirement] = []
        for requirement in selector.requirements {
            switch requirement {
            case .equals(let key, let value): labels[key] = value
            case .notEquals(let key, let value): expressions.append(.init(key: key, operator: "NotIn", values: [value]))
            case .isIn(let key, let values): expressions.append(.init(key: key, operator: "In", values: values))
            case .notIn(let key, let values): expressions.append(.init(key: key, operator: "NotIn", values: values))
            case .exists(let key): expressions.append(.init(key: key, operator: "Exists"))
            case .notExists(let key): expressions.append(.init(key: key, operator: "DoesNotExist"))
            }
        }
        self.init(matchLabels: labels.isEmpty ? nil : labels, matchExpressions: expressions.isEmpty ? nil : expressions)
    }
}
