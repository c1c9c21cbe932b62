import BackupModel
import Foundation
import KubeClient
import Logging

/// Runs a pod's backup hooks in order through `pods/exec` (`KubeClient.exec`), each bounded by its timeout, and
/// records each one. A failed hook with onError Fail stops the rest of that phase and is the phase's failure; one
/// with Continue is a warning.
public struct PodHookRunner: Sendable {
    let client: KubeClient
    let logger: Logger
    /// "backup NAME" or "restore NAME", for the log.
    let operation: String

    public init(client: KubeClient, logger: Logger, operation: String) {
        self.client = client
        self.logger = logger
        self.operation = operation
    }

    /// What the runner needs to know of a pod.
    public struct Pod: Sendable {
        public var namespace: String
        public var name: String
        public var containers: [String]
        /// The pod's phase when it was listed; hooks run only in a Running pod.
        public var phase: String?

        public init(namespace: String, name: String, containers: [String], phase: String?) {
            self.namespace = namespace
            self.name = name
            self.containers = containers
            self.phase = phase
        }
    }

    public struct Outcome: Sendable {
        public var records: [HookRecord] = []
        /// Set when a Fail hook failed: the message for the backup's (or restore's) errors.
        public var failure: String?
        public var warnings: [String] = []
        public init() {}
    }

    public func run(_ hooks: [PlannedHook], phase: String, pod: Pod) async throws -> Outcome {
        var outcome = Outcome()
        for hook in hooks {
            let container = hook.container ?? pod.containers.first ?? ""
            var record = HookRecord(
                namespace: pod.namespace, pod: pod.name, container: container, phase: phase,
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
                logger.info("\(operation): \(record.display) ran [\(hook.command.joined(separator: " "))]")
                continue
            }
            let message = "\(record.display) [\(hook.command.joined(separator: " "))] failed: \(error)"
            logger.warning("\(operation): \(message)")
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
