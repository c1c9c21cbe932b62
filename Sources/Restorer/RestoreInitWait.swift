import BackupModel
import Collectors
import Foundation

extension PostRestoreHooks {
    /// Waits until each hook init container in `waits` has completed (terminated with exit code 0), polling the
    /// pod, each for at most its timeout counted from `start`. One that does not complete in time, exits non-zero
    /// in a pod that has ended, or whose pod is deleted, is an error of the restore (an init hook has no onError:
    /// the pod's application does not start without it). Each becomes a hook record ("init"). Returns whether the
    /// pod was deleted meanwhile; `pod` is left as last read.
    func waitForInitContainers(
        _ waits: [RestoreHookRules.InitWait], of pod: inout PodState, start: ContinuousClock.Instant,
        into outcome: inout Outcome
    ) async throws -> Bool {
        let namespace = pod.metadata.namespace ?? ""
        let name = pod.metadata.name ?? ""
        var pending = waits
        var deleted = false
        while !pending.isEmpty {
            let elapsed = ContinuousClock.now - start
            pending = pending.filter { wait in
                let status = pod.status?.initContainerStatuses?.first { $0.name == wait.container }
                let why: String
                if let exit = status?.state?.terminated?.exitCode, exit == 0 {
                    outcome.records.append(record(wait, pod: pod, elapsed: elapsed, exitCode: 0, error: nil))
                    return false
                } else if deleted {
                    why = "the pod was deleted before init container \(wait.container) completed"
                } else if Self.ended(pod) {
                    why = "the pod ended (\(pod.status?.phase ?? "")) before init container \(wait.container) completed"
                } else if elapsed >= wait.timeout {
                    why = "init container \(wait.container) did not complete within \(wait.timeout)"
                } else {
                    return true
                }
                let last = status?.state?.terminated ?? status?.lastState?.terminated
                let detail = last.map {
                    " (it exited with code \($0.exitCode ?? -1)\($0.reason.map { ", \($0)" } ?? ""))"
                }
                let entry = record(
                    wait, pod: pod, elapsed: elapsed, exitCode: last?.exitCode, error: why + (detail ?? ""))
                outcome.records.append(entry)
                outcome.errors.append("\(entry.display) failed: \(entry.error ?? why)")
                return false
            }
            guard !pending.isEmpty else { break }
            try await Task.sleep(for: pollInterval)
            if let now = try await read(namespace, name) { pod = now } else { deleted = true }
        }
        return deleted
    }

    private func record(
        _ wait: RestoreHookRules.InitWait, pod: PodState, elapsed: Duration, exitCode: Int32?, error: String?
    ) -> HookRecord {
        let command = pod.spec?.initContainers?.first { $0.name == wait.container }?.command ?? []
        return HookRecord(
            namespace: pod.metadata.namespace ?? "", pod: pod.metadata.name ?? "", container: wait.container,
            phase: "init", source: wait.source, command: command, onError: "Fail", exitCode: exitCode, error: error,
            seconds: Double(elapsed / .milliseconds(1)) / 1000)
    }
}
