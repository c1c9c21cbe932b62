import ArgumentParser
import KubeClient

/// Rewrites the command line forms Velero users type into the ones the parser declares, before parsing:
///
/// - verb-first commands: `get backups` → `backup get`, `describe restore r1` → `restore describe r1`,
///   `create backup-location l` → `backup-location create l`;
/// - boolean flags written as Go's flag package takes them: bare or `=true|false` (`=1`, `=t`, `=F`, …).
///   Flags that default to true or to "unset" take a value (`--snapshot-volumes=false`; bare means true);
///   flags that default to false are plain switches (`--wait=true` is `--wait`, `--wait=false` is dropped).
///
/// Everything after `--` is left alone.
enum CommandLineForms {
    /// Boolean options whose value is written with `=` (or as the next argument when it is a boolean literal).
    static let valuedBooleans: Set<String> = [
        "snapshot-volumes", "restore-volumes", "include-cluster-resources", "leader-elect", "use-volume-snapshots",
        "default-volumes-to-fs-backup",
    ]
    /// Boolean switches, off unless given.
    static let switches: Set<String> = [
        "wait", "confirm", "force", "details", "preserve-nodeports", "all", "default", "overwrite", "read-data",
        "remove-stale", "orphans", "rebuild-counts", "client-only", "show-labels", "install-crds", "local", "paused",
        "skip-immediately", "use-owner-references-in-backup", "no-default-backup-location", "no-secret", "crds-only",
        "dry-run", "use-node-agent", "apply", "node-agent-host-path-volumes",
    ]
    static let verbs: Set<String> = ["get", "describe", "create", "delete"]
    /// Velero's nouns, singular and plural, to the command that owns them.
    static let nouns: [String: String] = [
        "backup": "backup", "backups": "backup", "restore": "restore", "restores": "restore",
        "backup-location": "backup-location", "backup-locations": "backup-location",
        "snapshot-location": "snapshot-location", "snapshot-locations": "snapshot-location",
        "schedule": "schedule", "schedules": "schedule",
    ]

    static func normalize(_ arguments: [String]) throws(ValidationError) -> [String] {
        var arguments = arguments
        if arguments.count >= 1, verbs.contains(arguments[0]) {
            guard arguments.count >= 2, let noun = nouns[arguments[1]] else {
                let given = arguments.count >= 2 ? " '\(arguments[1])'" : " nothing"
                throw ValidationError(
                    "'\(arguments[0])' takes one of backups, restores, schedules, backup-locations or snapshot-locations, not\(given)"
                )
            }
            arguments.replaceSubrange(0...1, with: [noun, arguments[0]])
        }
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                result += arguments[(index - 1)...]
                break
            }
            guard argument.hasPrefix("--") else {
                result.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let value = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            if valuedBooleans.contains(name) {
                if let value {
                    result.append("--\(name)=\(try parse(value, flag: name))")
                } else if index < arguments.count, let next = goBool(arguments[index]) {
                    index += 1
                    result.append("--\(name)=\(next)")
                } else {
                    result.append("--\(name)=true")
                }
            } else if switches.contains(name), let value {
                if try parse(value, flag: name) { result.append("--\(name)") }
            } else {
                result.append(argument)
            }
        }
        return result
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ text: String) -> Bool? { GoBool.parse(text) }

    private static func parse(_ value: String, flag: String) throws(ValidationError) -> Bool {
        guard let parsed = goBool(value) else {
            throw ValidationError("--\(flag) takes true or false, not '\(value)'")
        }
        return parsed
    }
}
