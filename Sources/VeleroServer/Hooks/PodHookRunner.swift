import Collectors
import Foundation
import KubeClient
import Logging

/// Runs a pod's backup hooks in order through `pods/exec` (`KubeClient.exec`), each bounded by its timeout, and
/// records each one. A failed hook with onError Fail stops the rest of that phase and is the phase's failure; one
/// with Continue is a warning.
struct PodHookRunner: Sendable {
    let client: KubeClient
    let logger: Logger
    let backupName: String

    /// What the runner needs to know of a pod.
    struct Pod: Sendable {
        var namespace: String
        var name: String
        var containers: [String]
        /// The pod's phase when it was listed; hooks run only in a Running pod.
        var phase: String?
    }

    struct Outcome: Sendable {
        var records: [HookRecord] = []
        /// Set when a Fail hook failed: the message for the backup's errors.
        var failure: String?
        var warnings: [String] = []
    }

    func run(_ hooks: [PlannedHook], phase: BackupHookRules.Phase, pod: Pod) async throws -> Outcome {
        var outcome = Outcome()
        for hook in hooks {
            let container = hook.container ?? pod.containers.first ?? ""
            var record = HookRecord(
                namespace: pod.namespace, pod: pod.name, container: container, phase: phase.rawValue,
                source: hook.source, command: hook.command, onError: hook.onError.rawValue)
            let start = ContinuousClock.now
            if !pod.containers.contains(container) {
                record.error = "the pod has no container '\(container)'"
            } else if pod.phase != "Running" {
                record.error = "the pod is \(pod.phase ?? "not started"), not Running"
            } else {
                do {
                    let result = try await client.exec(
                        namespace: pod.namespace, pod: pod.name, container: container, command: hook.command,
                        timeout: hook.timeout)
                    record.exitCode = result.exitCode
                    record.stdout = Self.tail(result.stdout)
                    record.stderr = Self.tail(result.stderr)
                    if !result.succeeded {
                        let output = record.stderr.isEmpty ? record.stdout : record.stderr
                        let how = result.exitCode.map { "exited with code \($0)" } ?? (result.failure ?? "failed")
                        record.error = how + (output.isEmpty ? "" : ": \(output.suffix(500))")
                    }
                } catch let error as KubeExecError {
                    record.error = error.description
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    record.error = "\(error)"
                }
            }
            let elapsed = ContinuousClock.now - start
            record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            outcome.records.append(record)
            guard let error = record.error else {
                logger.info("backup \(backupName): \(record.display) ran [\(hook.command.joined(separator: " "))]")
                continue
            }
            let message = "\(record.display) [\(hook.command.joined(separator: " "))] failed: \(error)"
            logger.warning("backup \(backupName): \(message)")
            if hook.onError == .fail {
                outcome.failure = message
                break
            }
            outcome.warnings.append(message + " (onError: Continue)")
        }
        return outcome
    }

    /// The last `HookRecord.outputLimit` bytes of an output, as text.
    static func tail(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.suffix(HookRecord.outputLimit), as: UTF8.self)
    }
}
