import BackupModel
import Collectors
import Foundation
import Restorer
import Testing
import VeleroAPI
import VeleroServer

/// The timeouts of restore hooks, each enforced: an exec hook's wait for its container (`wait-timeout` /
/// `waitTimeout`) and its run (`exec-timeout` / `execTimeout`), and an init hook's `init.timeout` (annotation
/// `init.hook.restore.velero.io/timeout`) for its init containers to complete. The test plays the kubelet: each
/// restored pod gets the status the case needs, and kube-sim runs exec hooks as local processes.
@Suite("Restore hooks: wait, exec and init timeouts are enforced", .serialized)
struct RestoreHookTimeoutTests {
    static func status(_ pod: String) -> String {
        let notReady =
            #"{"phase":"Running","containerStatuses":[{"name":"main","ready":false,"state":{"running":{}}}]}"#
        return switch pod {
        case "unready-continue", "unready-fail", "doomed": notReady
        case "init-stuck":
            #"{"phase":"Pending","initContainerStatuses":[{"name":"warm","ready":false,"state":{"running":{}}}]}"#
        case "init-crash":
            #"{"phase":"Failed","initContainerStatuses":[{"name":"migrate","state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}"#
        case "init-ok":
            #"{"phase":"Running","initContainerStatuses":[{"name":"quick","state":{"terminated":{"exitCode":0}}}],"containerStatuses":[{"name":"main","ready":true,"state":{"running":{}}}]}"#
        default: RestoreHookTests.running
        }
    }

    @Test(
        "a container never ready fails its hook after waitTimeout (Continue: warning, Fail: error), an exec past execTimeout is stopped, a missing container fails at once, a deleted pod fails its hook, init containers must complete within init.timeout"
    )
    func timeouts() async throws {
        try await ServerHarness.with { harness in
            let hooks = RestoreHookTests()
            try await harness.apply(
                #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"app"}}"#,
                to: ServerHarness.namespacesResource)
            let post = "post.hook.restore.velero.io/"
            for (name, onError) in [("unready-continue", "Continue"), ("unready-fail", "Fail")] {
                try await hooks.pod(
                    harness, name,
                    annotations: [
                        post + "command": #"["true"]"#, post + "wait-for-ready": "true", post + "wait-timeout": "1s",
                        post + "on-error": onError,
                    ])
            }
            try await hooks.pod(
                harness, "long-exec",
                annotations: [
                    post + "command": #"["sh","-c","echo $$ > exec-pid; sleep 30; echo late > late-marker"]"#,
                    post + "exec-timeout": "1s",
                ])
            // The default wait is 10 minutes: a hook for a container the pod lacks must not wait for it.
            try await hooks.pod(
                harness, "no-container",
                annotations: [
                    post + "command": #"["true"]"#, post + "container": "sidecar", post + "on-error": "Continue",
                ])
            // Deleted while its hook waits: the hook fails with that reason, the rest of the restore goes on.
            try await hooks.pod(
                harness, "doomed",
                annotations: [
                    post + "command": #"["true"]"#, post + "wait-for-ready": "true", post + "wait-timeout": "120s",
                ])
            try await hooks.pod(harness, "init-stuck", labels: ["tier": "warm"], annotations: [:])
            try await hooks.pod(
                harness, "init-crash",
                annotations: [
                    "init.hook.restore.velero.io/container-image": "busybox",
                    "init.hook.restore.velero.io/container-name": "migrate",
                    "init.hook.restore.velero.io/command": #"["false"]"#,
                    "init.hook.restore.velero.io/timeout": "120s",
                ])
            try await hooks.pod(harness, "init-ok", labels: ["tier": "quick"], annotations: [:])
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("source", namespace: "app"), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("source").phase == .completed)
                let started = ContinuousClock.now
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"timed"},"spec":{\
                    "backupName":"source","namespaceMapping":{"app":"app2"},"hooks":{"resources":[\
                    {"name":"warm","labelSelector":{"matchLabels":{"tier":"warm"}},"postHooks":[\
                    {"init":{"initContainers":[{"name":"warm","image":"busybox","command":["sleep","3600"]}],\
                    "timeout":"1s"}}]},\
                    {"name":"quick","labelSelector":{"matchLabels":{"tier":"quick"}},"postHooks":[\
                    {"init":{"initContainers":[{"name":"quick","image":"busybox","command":["true"]}],\
                    "timeout":"120s"}}]}]}}}
                    """, to: Restore.resource, namespace: "velero")
                let uids = try await hooks.playKubelet(harness, namespace: "app2", count: 8, status: Self.status)
                try await harness.client.delete(RestoreHookTests.pods, namespace: "app2", name: "doomed")
                let restore = try await harness.finishedRestore("timed")
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                // None of the 120 s timeouts above was waited out (the bound leaves room for a loaded machine).
                #expect(seconds < 100, "the restore waited \(seconds) s")
                let status = try #require(restore.status)
                #expect(restore.phase == .partiallyFailed, "\(status)")
                #expect(status.hookStatus == HookStatus(hooksAttempted: 8, hooksFailed: 7), "\(status)")
                let record = try #require(
                    try await harness.repository().record(RestoreRecord.self, key: RestoreRecord.key("timed")))
                func one(_ list: [String], _ pod: String) -> String {
                    let matching = list.filter { $0.contains("pod app2/\(pod) ") }
                    #expect(matching.count == 1, "\(pod): \(list)")
                    return matching.first ?? ""
                }
                #expect(one(record.warnings, "unready-continue").contains("container main was not ready within 1"))
                #expect(one(record.errors, "unready-fail").contains("container main was not ready within 1"))
                // No on-error: Continue, as Velero's restore hooks default to (a warning, not an error).
                #expect(one(record.warnings, "long-exec").contains("did not finish within 1"))
                #expect(one(record.warnings, "no-container").contains("the pod has no container 'sidecar'"))
                #expect(one(record.warnings, "doomed").contains("the pod was deleted before the hook ran"))
                #expect(one(record.errors, "init-stuck").contains("init container warm did not complete within 1"))
                let crash = one(record.errors, "init-crash")
                #expect(crash.contains("init container migrate") && crash.contains("exited with code 2"), "\(crash)")
                #expect(!record.errors.contains { $0.contains("init-ok") }, "\(record.errors)")
                #expect(!record.warnings.contains { $0.contains("init-ok") }, "\(record.warnings)")

                // The exec past its timeout was stopped: its process is gone and never wrote its late marker.
                let directory = harness.temp.sub("kubelet-node-a") + "/pods/" + (uids["long-exec"] ?? "")
                let pidText = try String(contentsOfFile: directory + "/exec-pid", encoding: .utf8)
                let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
                try await harness.waitFor("the timed-out hook's process to end", seconds: 10) {
                    kill(pid, 0) != 0 ? true : nil
                }
                #expect(!FileManager.default.fileExists(atPath: directory + "/late-marker"))
            }
        }
    }
}
