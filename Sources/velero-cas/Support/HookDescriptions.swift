import BackupModel
import Collectors
import Foundation
import VeleroAPI

/// The hooks part of `backup describe`: counts, and with `--details` each hook with its command, outcome and
/// output.
enum HookDescriptions {
    static func print(_ hooks: [HookRecord]?, details: Bool) {
        guard let hooks, !hooks.isEmpty else { return }
        Swift.print("Hooks:        \(hooks.count) attempted, \(hooks.count { $0.failed }) failed")
        guard details else { return }
        for hook in hooks {
            let outcome = hook.error.map { "failed: \($0)" } ?? "ok"
            Swift.print(
                "  \(hook.display) [\(hook.command.joined(separator: " "))] onError \(hook.onError): \(outcome)"
                    + " (\(hook.exitCode.map { "exit code \($0), " } ?? "")\(String(format: "%.1f", hook.seconds)) s)")
            for (name, text) in [("stdout", hook.stdout), ("stderr", hook.stderr)] where !text.isEmpty {
                Swift.print("    \(name): \(text.split(separator: "\n").joined(separator: "\n            "))")
            }
        }
    }

    /// Through the server: the Backup's `status.hookStatus`.
    static func print(_ status: HookStatus?) {
        guard let status, let attempted = status.hooksAttempted, attempted > 0 else { return }
        Swift.print("Hooks:        \(attempted) attempted, \(status.hooksFailed ?? 0) failed")
    }
}
