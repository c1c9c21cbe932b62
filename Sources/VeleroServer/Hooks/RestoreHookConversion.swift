import BackupModel
import Collectors
import Restorer
import VeleroAPI

/// A Restore's `spec.hooks` checked field by field (the reasons name the field path and value, and make the
/// Restore FailedValidation) and turned into the restorer's `RestoreHookRules`.
enum RestoreHookConversion {
    static func rules(_ hooks: RestoreHooks?, _ errors: inout [String]) -> RestoreHookRules? {
        guard let resources = hooks?.resources, !resources.isEmpty else { return nil }
        var rules: [RestoreHookRules.Rule] = []
        for (index, spec) in resources.enumerated() {
            let (field, name, pods) = HookPodSelector.rule(spec, index: index, &errors)
            var initContainers: [[UInt8]] = []
            var exec: [RestoreHookRules.ExecHook] = []
            var initTimeouts: [String: Duration] = [:]
            for (position, hook) in (spec.postHooks ?? []).enumerated() {
                let hookField = "\(field).postHooks[\(position)]"
                switch (hook.exec, hook.`init`) {
                case (let execHook?, nil):
                    let planned = PlannedHook.check(
                        container: execHook.container, command: execHook.command, onError: execHook.onError,
                        unsetOnError: .continue,
                        timeout: execHook.execTimeout, source: "spec:\(name)",
                        field: { "\(hookField).exec.\($0 == "timeout" ? "execTimeout" : $0)" }, &errors)
                    let wait = RestoreHookRules.waitTimeout(
                        execHook.waitTimeout, field: "\(hookField).exec.waitTimeout", &errors)
                    if let planned {
                        exec.append(
                            .init(hook: planned, waitTimeout: wait, waitForReady: execHook.waitForReady ?? false))
                    }
                case (nil, let initHook?):
                    let containers = initHook.initContainers ?? []
                    if containers.isEmpty { errors.append("\(hookField).init.initContainers is required") }
                    let timeout = RestoreHookRules.waitTimeout(
                        initHook.timeout, field: "\(hookField).init.timeout", &errors)
                    for (number, container) in containers.enumerated() {
                        let containerField = "\(hookField).init.initContainers[\(number)]"
                        guard case .object(let fields) = container else {
                            errors.append("\(containerField) is not a container object")
                            continue
                        }
                        guard case .string(let containerName)? = fields["name"], PlannedHook.isLabel(containerName)
                        else {
                            errors.append("\(containerField).name is required and must be a container name")
                            continue
                        }
                        guard case .string(let image)? = fields["image"], !image.isEmpty else {
                            errors.append("\(containerField).image is required")
                            continue
                        }
                        initContainers.append(container.json)
                        if let timeout { initTimeouts[containerName] = timeout }
                    }
                default:
                    errors.append("\(hookField) must have exactly one of exec and init")
                }
            }
            rules.append(
                .init(
                    name: name, pods: pods, initContainers: initContainers, exec: exec,
                    initTimeouts: initTimeouts.isEmpty ? nil : initTimeouts))
        }
        return RestoreHookRules(rules: rules)
    }
}
