import Collectors
import Foundation
import KubeClient
import VeleroAPI

/// A hook ready to run: what, where, and how failure counts.
struct PlannedHook: Sendable, Equatable {
    enum OnError: String, Sendable { case `continue` = "Continue", fail = "Fail" }
    /// The container; nil means the pod's first one.
    var container: String?
    var command: [String]
    var onError: OnError
    var timeout: Duration
    /// "annotation" or "spec:<rule name>".
    var source: String

    /// Velero's default exec hook timeout.
    static let defaultTimeout = Duration.seconds(30)
}

/// The hooks of a Backup: its `spec.hooks.resources` rules, checked field by field when the backup is validated,
/// and each pod's hook annotations, read when the pod's turn comes. For a pod and a phase, annotations win over
/// the rules (as in Velero): `pre.hook.backup.velero.io/…` (or the older unprefixed `hook.backup.velero.io/…`) for
/// pre hooks, `post.hook.backup.velero.io/…` for post hooks, with `container`, `command` (a JSON array or one
/// word), `on-error` and `timeout`.
struct BackupHookRules: Sendable {
    enum Phase: String, Sendable { case pre, post }

    struct Rule: Sendable {
        var name: String
        var includedNamespaces: [String]
        var excludedNamespaces: [String]
        var includedResources: [String]
        var excludedResources: [String]
        var selector: LabelSelector?
        var pre: [PlannedHook]
        var post: [PlannedHook]

        /// Velero's rule matching for a pod: its namespace, the resource "pods", and its labels.
        func applies(namespace: String, labels: [String: String]) -> Bool {
            let podNames: Set<String> = ["*", "pods", "pod", "po", "pods."]
            if !includedNamespaces.isEmpty
                && !includedNamespaces.contains(where: { NamespacePattern.matches($0, namespace) })
            {
                return false
            }
            if excludedNamespaces.contains(where: { NamespacePattern.matches($0, namespace) }) { return false }
            if !includedResources.isEmpty && !includedResources.contains(where: podNames.contains) { return false }
            if excludedResources.contains(where: { $0 != "*" && podNames.contains($0) }) { return false }
            return selector?.matches(labels) ?? true
        }
    }

    var rules: [Rule] = []

    /// Checks `spec.hooks`; every problem is named by its field path and value.
    static func parse(_ hooks: BackupHooks?) -> Result<BackupHookRules, ValidationErrors> {
        var errors: [String] = []
        var rules: [Rule] = []
        for (index, spec) in (hooks?.resources ?? []).enumerated() {
            let field = "spec.hooks.resources[\(index)]"
            let name = spec.name ?? ""
            if name.isEmpty { errors.append("\(field).name is required") }
            for (list, values) in [
                ("includedNamespaces", spec.includedNamespaces), ("excludedNamespaces", spec.excludedNamespaces),
                ("includedResources", spec.includedResources), ("excludedResources", spec.excludedResources),
            ] {
                for (position, value) in (values ?? []).enumerated() where value.isEmpty || value.contains(" ") {
                    errors.append("\(field).\(list)[\(position)] '\(value)' is not a name or pattern")
                }
            }
            var selector: LabelSelector?
            if let spec = spec.labelSelector {
                do {
                    selector = try LabelSelector(parsing: try spec.selectorString())
                } catch {
                    errors.append("\(field).labelSelector is invalid: \(error)")
                }
            }
            var phases: [Phase: [PlannedHook]] = [:]
            for (phase, list) in [(Phase.pre, spec.pre), (.post, spec.post)] {
                for (position, hook) in (list ?? []).enumerated() {
                    let hookField = "\(field).\(phase.rawValue)[\(position)].exec"
                    guard let exec = hook.exec else {
                        errors.append("\(hookField) is required (exec is the only kind of backup hook)")
                        continue
                    }
                    if let planned = plan(
                        container: exec.container, command: exec.command, onError: exec.onError,
                        timeout: exec.timeout, source: "spec:\(name)", field: { "\(hookField).\($0)" }, &errors)
                    {
                        phases[phase, default: []].append(planned)
                    }
                }
            }
            rules.append(
                Rule(
                    name: name, includedNamespaces: spec.includedNamespaces ?? [],
                    excludedNamespaces: spec.excludedNamespaces ?? [], includedResources: spec.includedResources ?? [],
                    excludedResources: spec.excludedResources ?? [], selector: selector, pre: phases[.pre] ?? [],
                    post: phases[.post] ?? []))
        }
        return errors.isEmpty ? .success(BackupHookRules(rules: rules)) : .failure(ValidationErrors(errors))
    }

    /// The hooks of `phase` for a pod: from its annotations if it has them for that phase, else from every rule
    /// that applies. A malformed annotation throws, naming the pod, the annotation and its value.
    func hooks(
        _ phase: Phase, namespace: String, pod: String, labels: [String: String], annotations: [String: String]
    ) throws(ValidationErrors) -> [PlannedHook] {
        let prefixes = phase == .pre ? ["pre.", ""] : ["post."]
        for prefix in prefixes where annotations[prefix + "hook.backup.velero.io/command"] != nil {
            let key = { (name: String) in prefix + "hook.backup.velero.io/" + name }
            var errors: [String] = []
            let raw = annotations[key("command")] ?? ""
            var command: [String]? = [raw]
            if raw.hasPrefix("[") {
                command = try? JSONDecoder().decode([String].self, from: Data(raw.utf8))
                if command == nil {
                    errors.append("annotation \(key("command")) '\(raw)' is not a JSON array of strings")
                }
            }
            let planned = Self.plan(
                container: annotations[key("container")], command: command ?? [""],
                onError: annotations[key("on-error")], timeout: annotations[key("timeout")], source: "annotation",
                field: { "annotation \(key($0 == "onError" ? "on-error" : $0))" }, &errors)
            guard let planned, errors.isEmpty else {
                throw ValidationErrors(errors.map { "pod \(namespace)/\(pod): \($0)" })
            }
            return [planned]
        }
        return rules.filter { $0.applies(namespace: namespace, labels: labels) }.flatMap {
            phase == .pre ? $0.pre : $0.post
        }
    }

    /// One exec hook's fields checked; nil (with the reasons appended) when any is wrong.
    private static func plan(
        container: String?, command: [String]?, onError: String?, timeout: String?, source: String,
        field: (String) -> String, _ errors: inout [String]
    ) -> PlannedHook? {
        let before = errors.count
        if let container, !container.isEmpty, !isLabel(container) {
            errors.append("\(field("container")) '\(container)' is not a container name (a DNS label)")
        }
        let command = command ?? []
        if command.isEmpty || command[0].isEmpty {
            errors.append("\(field("command")) is required: the program and its arguments")
        }
        var mode = PlannedHook.OnError.fail
        if let onError, !onError.isEmpty {
            if let parsed = PlannedHook.OnError(rawValue: onError) {
                mode = parsed
            } else {
                errors.append("\(field("onError")) '\(onError)' is not Continue or Fail")
            }
        }
        var limit = PlannedHook.defaultTimeout
        if let timeout, !timeout.isEmpty {
            if let seconds = KubeDuration.seconds(timeout), seconds >= 0 {
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

    private static func isLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        return bytes.count <= 63 && alphanumeric(bytes.first!) && alphanumeric(bytes.last!)
            && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
