import ChunkStore
import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

/// Backup hooks run by pod exec through kube-sim (which runs each command as a process in the pod's directory under
/// its node's kubelet root), with a node agent process backing up the volumes.
@Suite("Backup hooks: pre and post exec hooks around pod volume backup", .serialized)
struct BackupHookTests {
    func configuration(_ harness: ServerHarness) -> VeleroServer.Configuration {
        NodeAgentTests().configuration(harness)
    }

    static let emptyDir = #"[{"name":"data","emptyDir":{}}]"#
    static let volumeDirectory = "volumes/kubernetes.io~empty-dir/data"

    @Test(
        "a pre hook writes a marker the volume's backup contains, the post hook runs after it; spec rules match pods by label, annotations win; counts and describe --details"
    )
    func hooksAroundVolumes() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            let agent = try nodes.startAgent("node-a")
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("shop")
            let web = try await nodes.pod(
                "web", namespace: "shop", node: "node-a", volumes: Self.emptyDir,
                annotations: [
                    "backup.velero.io/backup-volumes": "data",
                    "pre.hook.backup.velero.io/command":
                        #"["sh","-c","echo frozen > \#(Self.volumeDirectory)/hook-marker; echo pre-ran"]"#,
                    "pre.hook.backup.velero.io/container": "app",
                    "post.hook.backup.velero.io/command":
                        #"["sh","-c","echo thawed > \#(Self.volumeDirectory)/post-marker"]"#,
                ])
            try nodes.volume(
                node: "node-a", podUID: web, plugin: "kubernetes.io~empty-dir", directory: "data",
                files: ["app.db": Array("rows\n".utf8)])
            // A pod without volumes, matched by a spec rule's label selector: its pre and post hooks run too.
            let api = try await harness.apply(
                """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"api","namespace":"shop","labels":{"tier":"api"}},\
                "spec":{"nodeName":"node-a","containers":[{"name":"main","image":"x"}]},"status":{"phase":"Running"}}
                """, to: NodeCluster.pods, namespace: "shop")
            let apiDirectory = nodes.root("node-a") + "/pods/" + (api.metadata.uid ?? "")
            let rules = """
                ,"hooks":{"resources":[{"name":"quiesce","includedNamespaces":["shop"],\
                "labelSelector":{"matchLabels":{"tier":"api"}},\
                "pre":[{"exec":{"command":["sh","-c","echo pre >> order"],"onError":"Fail","timeout":"10s"}}],\
                "post":[{"exec":{"container":"main","command":["sh","-c","echo post >> order"]}}]},\
                {"name":"everyone","pre":[{"exec":{"command":["sh","-c","echo spec-hook > spec-marker"]}}]}]}
                """
            try await harness.withServer(configuration(harness)) {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"hooked","namespace":"velero"},\
                    "spec":{"includedNamespaces":["shop"]\(rules)}}
                    """, to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("hooked", seconds: 180)
                let record = try #require(try await harness.storedBackup("hooked"))
                #expect(backup.phase == .completed, "\(record.errors) \(nodes.agentLog("node-a"))")
                // web: its annotations (pre and post); api: both rules' pre hooks and the quiesce post hook.
                #expect(backup.status?.hookStatus == HookStatus(hooksAttempted: 5, hooksFailed: 0))
                let hooks = record.hooks ?? []
                #expect(
                    hooks.map { "\($0.pod) \($0.phase) \($0.source)" }.sorted() == [
                        "api post spec:quiesce", "api pre spec:everyone", "api pre spec:quiesce",
                        "web post annotation", "web pre annotation",
                    ])
                #expect(hooks.first { $0.pod == "web" && $0.phase == "pre" }?.stdout == "pre-ran\n")
                #expect(hooks.allSatisfy { $0.exitCode == 0 && $0.error == nil })
                // The pre hook's marker is in the volume's snapshot; the post hook ran after the volume was read.
                let volume = try #require(record.volumes.first { $0.podVolume?.pod == "web" })
                let files = try await NodeAgentTests().restored(harness, snapshot: try #require(volume.snapshot))
                #expect(files["hook-marker"] == Array("frozen\n".utf8))
                #expect(files["app.db"] == Array("rows\n".utf8))
                #expect(files["post-marker"] == nil)
                let volumePath = nodes.root("node-a") + "/pods/\(web)/\(Self.volumeDirectory)"
                #expect(FileManager.default.fileExists(atPath: volumePath + "/post-marker"))
                #expect(try String(contentsOfFile: apiDirectory + "/order", encoding: .utf8) == "pre\npost\n")
                // web's annotations win over the "everyone" rule.
                #expect(!FileManager.default.fileExists(atPath: nodes.root("node-a") + "/pods/\(web)/spec-marker"))

                let described = try await ServerProcess.run(
                    ["backup", "describe", "hooked", "--details", "--local", "--store", harness.storePath],
                    environment: ["VELERO_CAS_PASSWORD": "server-test-password", "HOME": harness.temp.sub("home")])
                #expect(described.status == 0, "\(described.errors)")
                #expect(described.output.contains("Hooks:        5 attempted, 0 failed"), "\(described.output)")
                #expect(described.output.contains("pre hook of pod shop/web container app (annotation)"))
                #expect(described.output.contains("stdout: pre-ran"))
            }
        }
    }

    @Test(
        "onError Fail: a hook that exits 1 or times out makes the backup PartiallyFailed with its stderr and keeps the pod's volumes out; Continue is a warning; a malformed annotation is an error naming it"
    )
    func failingHooks() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            let agent = try nodes.startAgent("node-a")
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("ops")
            func hooked(_ name: String, _ annotations: [String: String]) async throws {
                let uid = try await nodes.pod(
                    name, namespace: "ops", node: "node-a", volumes: Self.emptyDir,
                    annotations: annotations.merging(["backup.velero.io/backup-volumes": "data"]) { $1 })
                try nodes.volume(
                    node: "node-a", podUID: uid, plugin: "kubernetes.io~empty-dir", directory: "data",
                    files: ["f": [1]])
            }
            try await hooked(
                "bad",
                [
                    "pre.hook.backup.velero.io/command": #"["sh","-c","echo cannot freeze the database >&2; exit 1"]"#,
                    "post.hook.backup.velero.io/command": #"["sh","-c","touch post-ran"]"#,
                ])
            try await hooked(
                "slow",
                [
                    "hook.backup.velero.io/command": #"["sleep","5"]"#, "hook.backup.velero.io/timeout": "500ms",
                    "hook.backup.velero.io/on-error": "Fail",
                ])
            try await hooked(
                "lenient",
                [
                    "pre.hook.backup.velero.io/command": #"["sh","-c","echo not quite >&2; exit 2"]"#,
                    "pre.hook.backup.velero.io/on-error": "Continue",
                ])
            try await hooked(
                "typo", ["pre.hook.backup.velero.io/command": "sync", "pre.hook.backup.velero.io/timeout": "soon"])
            try await harness.withServer(configuration(harness)) {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"failing","namespace":"velero"},\
                    "spec":{"includedNamespaces":["ops"]}}
                    """, to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("failing", seconds: 180)
                let record = try #require(try await harness.storedBackup("failing"))
                #expect(backup.phase == .partiallyFailed)
                #expect(backup.status?.hookStatus == HookStatus(hooksAttempted: 3, hooksFailed: 3))
                let bad = record.errors.filter { $0.contains("pod ops/bad") }
                #expect(bad.count == 1, "\(record.errors)")
                #expect(bad.first?.contains("exited with code 1: cannot freeze the database") == true, "\(bad)")
                #expect(bad.first?.contains("volumes were not backed up") == true)
                // The 500 ms timeout stopped the `sleep 5` (the hook's own time, not the loaded machine's backup time).
                let slowHook = try #require((record.hooks ?? []).first { $0.pod == "slow" })
                #expect(slowHook.seconds < 4, "the timeout did not stop the hook: \(slowHook.seconds) s")
                let slow = record.errors.filter { $0.contains("pod ops/slow") }
                #expect(slow.first?.contains("did not finish within 0.5 seconds") == true, "\(record.errors)")
                let typo = record.errors.filter { $0.contains("pod ops/typo") }
                #expect(
                    typo.first?.contains("annotation pre.hook.backup.velero.io/timeout 'soon' is not a duration")
                        == true, "\(record.errors)")
                #expect(record.warnings.contains { $0.contains("pod ops/lenient") && $0.contains("not quite") })
                #expect(backup.status?.errors == 3)
                // Only lenient's volume was handed to the node agent; bad's post hook never ran.
                let pvbs = try await nodes.podVolumeBackups(backup: "failing")
                #expect(pvbs.map { $0.spec.pod.name ?? "" } == ["lenient"])
                #expect(record.volumes.filter { $0.snapshot != nil }.count == 1)
                #expect(!(record.hooks ?? []).contains { $0.phase == "post" })
            }
        }
    }

    @Test("invalid spec.hooks fields make the backup FailedValidation, each named with its value")
    func validation() async throws {
        try await ServerHarness.with { harness in
            try await harness.withServer(configuration(harness)) {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"invalid","namespace":"velero"},\
                    "spec":{"hooks":{"resources":[{"includedNamespaces":[""],\
                    "labelSelector":{"matchExpressions":[{"key":"a","operator":"Sometimes"}]},\
                    "pre":[{"exec":{"command":[],"onError":"Maybe","timeout":"soon","container":"Main_1"}},{}]}]}}}
                    """, to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("invalid")
                #expect(backup.phase == .failedValidation)
                let reasons = backup.status?.validationErrors ?? []
                for expected in [
                    "spec.hooks.resources[0].name is required",
                    "spec.hooks.resources[0].includedNamespaces[0] '' is not a name or pattern",
                    "spec.hooks.resources[0].labelSelector is invalid",
                    "spec.hooks.resources[0].pre[0].exec.command is required",
                    "spec.hooks.resources[0].pre[0].exec.onError 'Maybe' is not Continue or Fail",
                    "spec.hooks.resources[0].pre[0].exec.timeout 'soon' is not a duration",
                    "spec.hooks.resources[0].pre[0].exec.container 'Main_1' is not a container name",
                    "spec.hooks.resources[0].pre[1].exec is required",
                ] {
                    #expect(reasons.contains { $0.hasPrefix(expected) }, "\(expected) not in \(reasons)")
                }
            }
        }
    }
}
