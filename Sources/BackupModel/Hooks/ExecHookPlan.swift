import Foundation
import KubeClient

/// A hook ready to run: what, where, and how failure counts.
public struct PlannedHook: Sendable, Equatable, Codable {
    public enum OnError: String, Sendable, Codable { case `continue` = "Continue", fail = "Fail" }
    /// The container; nil means the pod's first one.
    public var container: String?
    public var command: [String]
    public var onError: OnError
    public var timeout: Duration
    /// "annotation" or "spec:<rule name>".
    public var source: String

    /// Velero's default exec hook timeout.
    public static let defaultTimeout = Duration.seconds(30)

    public init(container: String?, command: [String], onError: OnError, timeout: Duration, source: String) {
        self.container = container
        self.command = command
        self.onError = onError
        self.timeout = timeout
        self.source = source
    }

    /// A hook command annotation: a JSON array of strings, or one word (Velero's rule); a malformed array is an
    /// error naming the annotation.
    public static func command(annotation: String, _ raw: String, _ errors: inout [String]) -> [String] {
        guard raw.hasPrefix("[") else { return [raw] }
        guard let command = try? JSONDecoder().decode([String].self, from: Data(raw.utf8)) else {
            errors.append("annotation \(annotation) '\(raw)' is not a JSON array of strings")
            return [""]
        }
        return command
    }

    /// One exec hook's fields checked; nil (with the reasons appended) when any is wrong. An absent `onError` is
    /// `unsetOnError`: Fail for backup hooks, Continue for restore hooks, as Velero documents each.
    public static func check(
        container: String?, command: [String]?, onError: String?, unsetOnError: OnError, timeout: String?,
        source: String, field: (String) -> String, _ errors: inout [String]
    ) -> PlannedHook? {
        let before = errors.count
        if let container, !container.isEmpty, !isLabel(container) {
            errors.append("\(field("container")) '\(container)' is not a container name (a DNS label)")
        }
        let command = command ?? []
        if command.isEmpty || command[0].isEmpty {
            errors.append("\(field("command")) is required: the program and its arguments")
        }
        var mode = unsetOnError
        if let onError, !onError.isEmpty {
            if let parsed = PlannedHook.OnError(rawValue: onError) {
                mode = parsed
            } else {
                errors.append("\(field("onError")) '\(onError)' is not Continue or Fail")
            }
        }
        var limit = PlannedHook.defaultTimeout
        if let timeout, !timeout.isEmpty {
            if let seconds = GoDuration.seconds(timeout), seconds >= 0 {
                if seconds > 0 { limit = .milliseconds(Int64((seconds * 1000).rounded(.up))) }
            } else {
                errors.append("\(field("timeout")) '\(timeout)' is not a duration (Go syntax, e.g. 30s or 2m)")
            }
        }
        guard errors.count == before else { return nil }
        return PlannedHook(
            container: container?.isEmpty == false ? container : nil, command: command, onError: mode,
            timeout: limit, source: source)
    }

    /// A DNS label (RFC 1123): what container names must be.
    public static func isLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        guard let first = bytes.first, let last = bytes.last else { return false }
        return bytes.count <= 63 && alphanumeric(first) && alphanumeric(last)
            && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
