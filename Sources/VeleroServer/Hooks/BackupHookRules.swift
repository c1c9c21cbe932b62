import BackupModel
import Collectors
import Foundation
import KubeClient
import VeleroAPI

/// The hooks of a Backup: its `spec.hooks.resources` rules, checked field by field when the backup is validated,
/// and each pod's hook annotations, read when the pod's turn comes. For a pod and a phase, annotations win over
/// the rules (as in Velero): `pre.hook.backup.velero.io/…` (or the older unprefixed `hook.backup.velero.io/…`) for
/// pre hooks, `post.hook.backup.velero.io/…` for post hooks, with `container`, `command` (a JSON array or one
/// word), `on-error` and `timeout`.
struct BackupHookRules: Sendable {
    enum Phase: String, Sendable { case pre, post }

    struct Rule: Sendable {
        var name: String
        var pods: HookPodSelector
        var pre: [PlannedHook]
        var post: [PlannedHook]
    }

    var rules: [Rule] = []

    /// Checks `spec.hooks`; every problem is named by its field path and value.
    static func parse(_ hooks: BackupHooks?) -> Result<BackupHookRules, ValidationErrors> {
        var errors: [String] = []
        var rules: [Rule] = []
        for (index, spec) in (hooks?.resources ?? []).enumerated() {
            let (field, name, pods) = HookPodSelector.rule(spec, index: index, &errors)
            var phases: [Phase: [PlannedHook]] = [:]
            for (phase, list) in [(Phase.pre, spec.pre), (.post, spec.post)] {
                for (position, hook) in (list ?? []).enumerated() {
                    let hookField = "\(field).\(phase.rawValue)[\(position)].exec"
                    guard let exec = hook.exec else {
                        errors.append("\(hookField) is required (exec is the only kind of backup hook)")
                        continue
                    }
                    if let planned = PlannedHook.check(
                        container: exec.container, command: exec.command, onError: exec.onError, unsetOnError: .fail,
                        timeout: exec.timeout, source: "spec:\(name)", field: { "\(hookField).\($0)" }, &errors)
                    {
                        phases[phase, default: []].append(planned)
                    }
                }
            }
            rules.append(Rule(name: name, pods: pods, pre: phases[.pre] ?? [], post: phases[.post] ?? []))
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
            let command = PlannedHook.command(annotation: key("command"), annotations[key("command")] ?? "", &errors)
            let planned = PlannedHook.check(
                container: annotations[key("container")], command: command,
                onError: annotations[key("on-error")], unsetOnError: .fail, timeout: annotations[key("timeout")],
                source: "annotation",
                field: { "annotation \(key($0 == "onError" ? "on-error" : $0))" }, &errors)
            guard let planned, errors.isEmpty else {
                throw ValidationErrors(errors.map { "pod \(namespace)/\(pod): \($0)" })
            }
            return [planned]
        }
        return rules.filter { $0.pods.applies(namespace: namespace, labels: labels) }.flatMap {
            phase == .pre ? $0.pre : $0.post
        }
    }
}

extension HookPodSelector {
    /// A rule's name (required) and pod selection, checked; reasons name `spec.hooks.resources[index]`.
    static func rule(_ spec: some HookRuleSelection, index: Int, _ errors: inout [String]) -> (
        field: String, name: String, pods: HookPodSelector
    ) {
        let field = "spec.hooks.resources[\(index)]"
        let name = spec.name ?? ""
        if name.isEmpty { errors.append("\(field).name is required") }
        let pods = check(
            field: field, includedNamespaces: spec.includedNamespaces, excludedNamespaces: spec.excludedNamespaces,
            includedResources: spec.includedResources, excludedResources: spec.excludedResources,
            labelSelector: spec.labelSelector.map { selector in Result { try selector.selectorString() } }, &errors)
        return (field, name, pods)
    }
}
