import BackupModel
import Collectors
import Foundation
import KubeClient
import Restorer
import Testing
import VeleroAPI
import VeleroServer

/// Restore hooks: init containers put into restored pods, and post-restore exec hooks that wait for the container
/// to run. The test plays scheduler and kubelet: it binds each restored pod to a node and marks its container
/// running; kube-sim then runs the hooks' commands in the pod's new directory under that node's kubelet root.
@Suite("Restore hooks: init containers and post-restore exec", .serialized)
struct RestoreHookTests {
    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)

    func pod(_ harness: ServerHarness, _ name: String, labels: [String: String] = [:], annotations: [String: String])
        async throws
    {
        let labelJSON = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
        let annotationJSON = String(decoding: try JSONEncoder().encode(annotations), as: UTF8.self)
        try await harness.apply(
            """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"app","labels":\(labelJSON),\
            "annotations":\(annotationJSON)},"spec":{"nodeName":"node-a","initContainers":[{"name":"own",\
            "image":"busybox"}],"containers":[{"name":"main","image":"busybox"}]}}
            """, to: Self.pods, namespace: "app")
    }

    static let running =
        #"{"phase":"Running","containerStatuses":[{"name":"main","ready":true,"state":{"running":{}}}]}"#

    /// Binds restored pods in `namespace` to node-a and gives them `status` (by pod name; default Running and
    /// ready), as a scheduler and kubelet would.
    func playKubelet(
        _ harness: ServerHarness, namespace: String, count: Int, status: (String) -> String = { _ in running }
    ) async throws -> [String: String] {
        var started: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while started.count < count, ContinuousClock.now < deadline {
            var objects: [KubeObject] = []
            try await harness.client.listAll(Self.pods, namespace: namespace) { objects += $0 }
            for object in objects where started[object.name] == nil {
                let path = "/api/v1/namespaces/\(namespace)/pods/\(object.name)"
                _ = try await harness.client.send(
                    .patch, path, body: Array(#"{"spec":{"nodeName":"node-a"}}"#.utf8),
                    contentType: "application/merge-patch+json")
                _ = try await harness.client.send(
                    .patch, path + "/status",
                    body: Array(#"{"status":\#(status(object.name))}"#.utf8),
                    contentType: "application/merge-patch+json")
                started[object.name] = object.metadata.uid ?? ""
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return started
    }

    @Test(
        "annotation and spec init containers before the pod's own, exec hooks once the container runs (kube-sim runs them in the new pod's directory), a failing Fail hook and a malformed annotation reported"
    )
    func restoreHooks() async throws {
        try await ServerHarness.with { harness in
            try await harness.apply(
                #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"app"}}"#,
                to: ServerHarness.namespacesResource)
            try await pod(
                harness, "db",
                annotations: [
                    "init.hook.restore.velero.io/container-image": "busybox:1.36",
                    "init.hook.restore.velero.io/container-name": "restore-init",
                    "init.hook.restore.velero.io/command": #"["sh","-c","echo init"]"#,
                    "post.hook.restore.velero.io/command": #"["sh","-c","echo restored > post-marker"]"#,
                    "post.hook.restore.velero.io/wait-timeout": "20s",
                ])
            try await pod(harness, "web", labels: ["tier": "web"], annotations: [:])
            try await pod(
                harness, "broken",
                annotations: [
                    "post.hook.restore.velero.io/command": #"["sh","-c","echo cannot warm the cache >&2; exit 3"]"#,
                    "post.hook.restore.velero.io/on-error": "Fail",
                ])
            try await pod(
                harness, "typo",
                annotations: [
                    "post.hook.restore.velero.io/command": "true",
                    "post.hook.restore.velero.io/wait-for-ready": "maybe",
                ])
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("source", namespace: "app"), to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("source").phase == .completed)
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"copy"},"spec":{\
                    "backupName":"source","namespaceMapping":{"app":"app2"},"hooks":{"resources":[{"name":"warm",\
                    "includedNamespaces":["app2"],"labelSelector":{"matchLabels":{"tier":"web"}},"postHooks":[\
                    {"init":{"initContainers":[{"name":"warm","image":"busybox","command":["true"]}]}},\
                    {"exec":{"container":"main","command":["sh","-c","echo $KUBE_SIM_POD > spec-marker"],\
                    "waitTimeout":"20s","waitForReady":true}}]}]}}}
                    """, to: Restore.resource, namespace: "velero")
                let uids = try await playKubelet(harness, namespace: "app2", count: 4)
                let restore = try await harness.finishedRestore("copy")
                let status = try #require(restore.status)
                #expect(restore.phase == .partiallyFailed, "\(status)")
                #expect(status.hookStatus == HookStatus(hooksAttempted: 3, hooksFailed: 1))
                let record = try #require(
                    try await harness.repository().record(RestoreRecord.self, key: RestoreRecord.key("copy")))
                #expect(
                    record.errors.contains {
                        $0.contains("pod app2/broken") && $0.contains("exited with code 3: cannot warm the cache")
                    }, "\(record.errors)")
                #expect(
                    record.errors.contains {
                        $0.contains("pod app2/typo")
                            && $0.contains("annotation post.hook.restore.velero.io/wait-for-ready 'maybe'")
                    }, "\(record.errors)")
                let described = try await ServerProcess.run(
                    ["restore", "describe", "copy", "--details", "--local", "--store", harness.storePath],
                    environment: ["VELERO_CAS_PASSWORD": "server-test-password", "HOME": harness.temp.sub("home")])
                #expect(described.output.contains("Hooks:        3 attempted, 1 failed"), "\(described.output)")
                #expect(described.output.contains("stderr: cannot warm the cache"), "\(described.output)")
                let root = harness.temp.sub("kubelet-node-a") + "/pods/"
                #expect(
                    try String(contentsOfFile: root + (uids["db"] ?? "") + "/post-marker", encoding: .utf8)
                        == "restored\n")
                #expect(
                    try String(contentsOfFile: root + (uids["web"] ?? "") + "/spec-marker", encoding: .utf8)
                        == "web\n")
                // Init containers: the hooks' first, then the pod's own.
                func initContainers(_ name: String) async throws -> [String] {
                    struct Pod: Decodable {
                        struct Spec: Decodable {
                            struct Container: Decodable {
                                var name: String
                                var image: String?
                                var command: [String]?
                            }
                            var initContainers: [Container]?
                        }
                        var spec: Spec
                    }
                    let object = try await harness.client.get(Self.pods, namespace: "app2", name: name)
                    let pod = try JSONDecoder().decode(Pod.self, from: Data(object.json))
                    return (pod.spec.initContainers ?? []).map {
                        "\($0.name) \($0.image ?? "") \(($0.command ?? []).joined(separator: " "))"
                    }
                }
                #expect(
                    try await initContainers("db") == ["restore-init busybox:1.36 sh -c echo init", "own busybox "])
                #expect(try await initContainers("web") == ["warm busybox true", "own busybox "])
                #expect(try await initContainers("broken") == ["own busybox "])
            }
        }
    }

    @Test("invalid restore hook fields make the Restore FailedValidation, each named")
    func validation() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer {
                try await harness.apply(
                    harness.backupManifest("source", namespace: harness.namespaces[0]), to: Backup.resource,
                    namespace: "velero")
                _ = try await harness.finishedBackup("source")
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"bad"},"spec":{\
                    "backupName":"source","hooks":{"resources":[{"name":"r","postHooks":[\
                    {"exec":{"command":["x"],"onError":"Never","execTimeout":"1y","waitTimeout":"later"}},\
                    {"init":{"initContainers":[{"name":"No_Good","image":"i"},{"name":"ok"}],"timeout":"soon"}},{}]}]}}}
                    """, to: Restore.resource, namespace: "velero")
                let restore = try await harness.finishedRestore("bad")
                #expect(restore.phase == .failedValidation)
                let reasons = restore.status?.validationErrors ?? []
                for expected in [
                    "spec.hooks.resources[0].postHooks[0].exec.onError 'Never' is not Continue or Fail",
                    "spec.hooks.resources[0].postHooks[0].exec.execTimeout '1y' is not a duration",
                    "spec.hooks.resources[0].postHooks[0].exec.waitTimeout 'later' is not a duration",
                    "spec.hooks.resources[0].postHooks[1].init.initContainers[0].name is required",
                    "spec.hooks.resources[0].postHooks[1].init.initContainers[1].image is required",
                    "spec.hooks.resources[0].postHooks[1].init.timeout 'soon' is not a duration",
                    "spec.hooks.resources[0].postHooks[2] must have exactly one of exec and init",
                ] {
                    #expect(reasons.contains { $0.contains(expected) }, "\(expected) not in \(reasons)")
                }
            }
        }
    }
}
