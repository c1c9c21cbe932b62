import BackupModel
import Collectors
import Foundation
import KubeClient

/// How a restore applies its rules and the restored pods' hook annotations.
extension RestoreHookRules {
    static let initPrefix = "init.hook.restore.velero.io/"
    static let postPrefix = "post.hook.restore.velero.io/"

    /// The init containers for a pod restored into `namespace`, or nil when it gets none.
    func initContainers(
        pod: String, namespace: String, labels: [String: String], annotations: [String: String]
    ) throws(RestoreHookError) -> [[String: Any]]? {
        if let image = annotations[Self.initPrefix + "container-image"] {
            var errors: [String] = []
            if image.isEmpty { errors.append("annotation \(Self.initPrefix)container-image is empty") }
            let name = annotations[Self.initPrefix + "container-name"] ?? ""
            if !name.isEmpty && !PlannedHook.isLabel(name) {
                errors.append("annotation \(Self.initPrefix)container-name '\(name)' is not a container name")
            }
            var container: [String: Any] = [
                "name": name.isEmpty ? "velero-restore-init-\(UUID().uuidString.prefix(8).lowercased())" : name,
                "image": image,
            ]
            if let raw = annotations[Self.initPrefix + "command"], !raw.isEmpty {
                container["command"] = PlannedHook.command(
                    annotation: Self.initPrefix + "command", raw, &errors)
            }
            _ = Self.waitTimeout(
                annotations[Self.initPrefix + "timeout"], field: "annotation \(Self.initPrefix)timeout", &errors)
            guard errors.isEmpty else { throw RestoreHookError(pod: "\(namespace)/\(pod)", reasons: errors) }
            return [container]
        }
        let containers = rules.filter { $0.pods.applies(namespace: namespace, labels: labels) }
            .flatMap(\.initContainers)
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        return containers.isEmpty ? nil : containers
    }

    /// The hook init containers of a restored pod that have a timeout (`initContainers`: the names the pod has).
    /// A malformed timeout annotation was reported when the containers were added; it is not waited for.
    func initWaits(
        namespace: String, labels: [String: String], annotations: [String: String], initContainers: [String]
    ) -> [InitWait] {
        if annotations[Self.initPrefix + "container-image"] != nil {
            var ignored: [String] = []
            guard let timeout = Self.waitTimeout(annotations[Self.initPrefix + "timeout"], field: "", &ignored)
            else { return [] }
            let named = annotations[Self.initPrefix + "container-name"] ?? ""
            let container =
                named.isEmpty ? initContainers.first { $0.hasPrefix("velero-restore-init-") } : named
            return container.map { [InitWait(container: $0, timeout: timeout, source: "annotation")] } ?? []
        }
        return rules.filter { $0.pods.applies(namespace: namespace, labels: labels) }.flatMap { rule in
            (rule.initTimeouts ?? [:]).sorted { $0.key < $1.key }.filter { initContainers.contains($0.key) }.map {
                InitWait(container: $0.key, timeout: $0.value, source: "spec:\(rule.name)")
            }
        }
    }

    /// Whether any rule waits for init containers.
    var waitsForInit: Bool { rules.contains { !($0.initTimeouts ?? [:]).isEmpty } }

    /// The exec hooks for a restored pod.
    func execHooks(
        pod: String, namespace: String, labels: [String: String], annotations: [String: String]
    ) throws(RestoreHookError) -> [ExecHook] {
        guard let raw = annotations[Self.postPrefix + "command"] else {
            return rules.filter { $0.pods.applies(namespace: namespace, labels: labels) }.flatMap(\.exec)
        }
        let key = { (name: String) in Self.postPrefix + name }
        var errors: [String] = []
        let command = PlannedHook.command(annotation: key("command"), raw, &errors)
        let planned = PlannedHook.check(
            container: annotations[key("container")], command: command, onError: annotations[key("on-error")],
            unsetOnError: .continue,
            timeout: annotations[key("exec-timeout")], source: "annotation",
            field: { "annotation \(key(["onError": "on-error", "timeout": "exec-timeout"][$0] ?? $0))" }, &errors)
        let wait = Self.waitTimeout(
            annotations[key("wait-timeout")], field: "annotation \(key("wait-timeout"))", &errors)
        var ready = false
        if let text = annotations[key("wait-for-ready")], !text.isEmpty {
            switch text {
            case "1", "t", "T", "true", "TRUE", "True": ready = true
            case "0", "f", "F", "false", "FALSE", "False": ready = false
            default: errors.append("annotation \(key("wait-for-ready")) '\(text)' is not true or false")
            }
        }
        guard let planned, errors.isEmpty else { throw RestoreHookError(pod: "\(namespace)/\(pod)", reasons: errors) }
        return [ExecHook(hook: planned, waitTimeout: wait, waitForReady: ready)]
    }

    /// A wait timeout (Go duration; absent or 0: the default).
    public static func waitTimeout(_ text: String?, field: String, _ errors: inout [String]) -> Duration? {
        guard let text, !text.isEmpty else { return nil }
        guard let seconds = GoDuration.seconds(text), seconds >= 0 else {
            errors.append("\(field) '\(text)' is not a duration (Go syntax, e.g. 30s or 10m)")
            return nil
        }
        return seconds > 0 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : nil
    }

    /// Puts the pod's hook init containers into `object` (a Pod), after Velero's `restore-wait` container when the
    /// pod has one first, before the pod's own.
    func addInitContainers(to object: inout [String: Any], namespace: String) throws(RestoreHookError) {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        guard
            let added = try initContainers(
                pod: metadata["name"] as? String ?? "", namespace: namespace,
                labels: metadata["labels"] as? [String: String] ?? [:],
                annotations: metadata["annotations"] as? [String: String] ?? [:])
        else { return }
        var spec = object["spec"] as? [String: Any] ?? [:]
        var existing = spec["initContainers"] as? [[String: Any]] ?? []
        var first: [[String: Any]] = []
        if let leading = existing.first?["name"] as? String, ["restore-wait", "restic-wait"].contains(leading) {
            first.append(existing.removeFirst())
        }
        spec["initContainers"] = first + added + existing
        object["spec"] = spec
    }
}

/// A restored pod's hook annotations are malformed.
public struct RestoreHookError: Error, CustomStringConvertible, Sendable {
    public var pod: String
    public var reasons: [String]
    public var description: String { "pod \(pod): \(reasons.joined(separator: "; "))" }
}
