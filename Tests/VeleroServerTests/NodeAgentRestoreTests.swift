import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import Testing
import VeleroAPI
import VeleroServer

@Suite("Node agents: pod volume restore into another cluster", .serialized)
struct NodeAgentRestoreTests {
    static func configuration(_ harness: ServerHarness) -> VeleroServer.Configuration {
        var configuration = harness.configuration()
        configuration.podVolumePollInterval = .milliseconds(100)
        configuration.podVolumeOperationTimeout = .seconds(300)
        configuration.restoreHelperImage = "registry.test/velero-cas:restore"
        return configuration
    }

    static func restore(_ harness: ServerHarness, _ name: String, backup: String, mapping: String) async throws
        -> String
    {
        let object = try await harness.apply(
            """
            {"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"\(name)","namespace":"velero"},\
            "spec":{"backupName":"\(backup)","namespaceMapping":{"shop":"\(mapping)"}}}
            """, to: Restore.resource, namespace: "velero")
        return try #require(object.metadata.uid)
    }

    static func finished(_ harness: ServerHarness, _ name: String) async throws -> Restore {
        try await harness.waitFor("restore \(name) to finish", seconds: 360) {
            let restore = try await harness.restore(name)
            return restore.phase.isFinal ? restore : nil
        }
    }

    static let webData: [String: [UInt8]] = [
        "index.html": Array("<h1>shop</h1>\n".utf8), "assets/blob.bin": NodeCluster.noise(3_000_000, seed: 5),
        "empty": [],
    ]
    static let dbData: [String: [UInt8]] = [
        "table.db": NodeCluster.noise(1_000_000, seed: 9), "wal/0001": [1, 2, 3],
    ]

    /// In the source cluster: pod web (emptyDir) on node-a and pod db (a claim on a CSI volume) on node-b, backed
    /// up by their nodes' agents.
    static func backUpShop(_ source: ServerHarness) async throws {
        let nodes = try NodeCluster(source)
        let agents = [try nodes.startAgent("node-a"), try nodes.startAgent("node-b")]
        defer { for agent in agents where agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        try await nodes.namespace("shop")
        let web = try await nodes.pod(
            "web", namespace: "shop", node: "node-a", volumes: #"[{"name":"data","emptyDir":{}}]"#,
            annotations: ["backup.velero.io/backup-volumes": "data"])
        try nodes.volume(
            node: "node-a", podUID: web, plugin: "kubernetes.io~empty-dir", directory: "data", files: webData)
        _ = try await nodes.claim("db-data", namespace: "shop", volume: "pv-db-1")
        let db = try await nodes.pod(
            "db", namespace: "shop", node: "node-b",
            volumes: #"[{"name":"data","persistentVolumeClaim":{"claimName":"db-data"}}]"#,
            annotations: ["backup.velero.io/backup-volumes": "data"])
        try nodes.volume(node: "node-b", podUID: db, plugin: "kubernetes.io~csi", directory: "pv-db-1", files: dbData)
        try await source.withServer(configuration(source)) {
            try await source.apply(
                #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"shop"},"spec":{"includedNamespaces":["shop"]}}"#,
                to: Backup.resource, namespace: "velero")
            let backup = try await source.finishedBackup("shop", seconds: 240)
            #expect(backup.phase == .completed, "\(nodes.agentLog("node-a")) \(nodes.agentLog("node-b"))")
        }
    }

    /// Plays the kubelet for a restore's two pods in `namespace`: checks the init container, schedules web on
    /// node-x and db on node-y, mounts their volume directories (web's holding a stale file to be overwritten),
    /// and starts each pod's restore-wait. Returns the volume paths and the restore-wait processes.
    static func kubelet(_ nodes: NodeCluster, namespace: String, restoreUID: String) async throws
        -> (web: String, db: String, waits: [Process])
    {
        let webPod = try await nodes.restoredPod("web", namespace: namespace)
        let spec = try #require(webPod["spec"] as? [String: Any])
        let wait = try #require((spec["initContainers"] as? [[String: Any]])?.first)
        #expect(wait["name"] as? String == "restore-wait")
        #expect(wait["image"] as? String == "registry.test/velero-cas:restore")
        #expect(wait["args"] as? [String] == ["restore-wait", restoreUID])
        #expect(wait["volumeMounts"] as? [[String: String]] == [["name": "data", "mountPath": "/restores/data"]])
        _ = try await nodes.restoredPod("db", namespace: namespace)
        let webUID = try await nodes.schedule("web", namespace: namespace, node: "node-x")
        let dbUID = try await nodes.schedule("db", namespace: namespace, node: "node-y")
        // The agent waits for the directory: it appears a little after the pod is scheduled.
        try await Task.sleep(for: .milliseconds(300))
        let web = try nodes.volume(
            node: "node-x", podUID: webUID, plugin: "kubernetes.io~empty-dir", directory: "data",
            files: ["index.html": Array("stale".utf8)])
        let db = try nodes.mount(node: "node-y", podUID: dbUID, plugin: "kubernetes.io~csi", directory: "pv-db-1")
        let waits = [
            try nodes.startRestoreWait(restoreUID: restoreUID, volumes: ["data": web], label: "\(namespace)-web"),
            try nodes.startRestoreWait(restoreUID: restoreUID, volumes: ["data": db], label: "\(namespace)-db"),
        ]
        return (web, db, waits)
    }

    @Test(
        "migration with a namespace mapping: the agents of the target's nodes write each volume into the new pod, the init container is released only on complete data; a snapshot missing from the store makes the restore PartiallyFailed"
    )
    func migration() async throws {
        try await ServerHarness.with { source in
            try await Self.backUpShop(source)
            try await ServerHarness.with(sharedStore: source.storePath) { target in
                let nodes = try NodeCluster(target)
                let agents = [try nodes.startAgent("node-x"), try nodes.startAgent("node-y")]
                defer { for agent in agents where agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
                func logs() -> String { "x: \(nodes.agentLog("node-x"))\ny: \(nodes.agentLog("node-y"))" }
                try await target.withServer(Self.configuration(target)) {
                    let uid = try await Self.restore(target, "move", backup: "shop", mapping: "shop-copy")
                    let (web, db, waits) = try await Self.kubelet(nodes, namespace: "shop-copy", restoreUID: uid)
                    // restore-wait ends only once the agent has written every byte of the volume.
                    for process in waits { #expect(try await NodeCluster.exitStatus(process) == 0, "\(logs())") }
                    #expect(try NodeCluster.files(at: web) == Self.webData)
                    #expect(try NodeCluster.files(at: db) == Self.dbData)
                    for path in [web, db] {
                        #expect(!FileManager.default.fileExists(atPath: path + "/.velero"), "restore-wait removes it")
                    }
                    let restore = try await Self.finished(target, "move")
                    #expect(restore.phase == .completed, "\(restore.status.map { "\($0)" } ?? "") \(logs())")

                    let pvrs = try await nodes.podVolumeRestores(restore: "move")
                    #expect(pvrs.count == 2)
                    for pvr in pvrs {
                        #expect(pvr.phase == .completed)
                        #expect(pvr.metadata.labels?["velero.io/restore-uid"] == uid)
                        #expect(pvr.spec.sourceNamespace == "shop" && pvr.spec.pod.namespace == "shop-copy")
                        #expect(pvr.spec.snapshotID.hasPrefix("pvb."))
                        #expect(pvr.status?.progress?.bytesDone == pvr.status?.progress?.totalBytes)
                    }
                    let webPVR = try #require(pvrs.first { $0.spec.pod.name == "web" })
                    #expect(webPVR.status?.node == "node-x")
                    #expect(webPVR.status?.progress?.bytesDone == Int64(3_000_000 + 14))
                    #expect(pvrs.first { $0.spec.pod.name == "db" }?.status?.node == "node-y")
                    let owner = try await target.client.get(
                        PodVolumeRestore.resource, namespace: "velero", name: webPVR.name)
                    #expect(String(decoding: owner.json, as: UTF8.self).contains(#""kind":"Restore""#))
                    let record = try #require(
                        try await target.repository().record(RestoreRecord.self, key: RestoreRecord.key("move")))
                    #expect(
                        record.volumes.compactMap { $0.podVolume?.display }.sorted() == [
                            "shop-copy/db/data", "shop-copy/web/data",
                        ])

                    // The web volume's snapshot disappears from the store: its volume fails, db's is restored.
                    let snapshot = try #require(webPVR.spec.snapshotID as String?)
                    try await target.repository().store.delete(Snapshot.key(snapshot))
                    let brokenUID = try await Self.restore(target, "broken", backup: "shop", mapping: "shop-two")
                    let broken = try await Self.kubelet(nodes, namespace: "shop-two", restoreUID: brokenUID)
                    #expect(try await NodeCluster.exitStatus(broken.waits[1]) == 0)
                    #expect(try NodeCluster.files(at: broken.db) == Self.dbData)
                    let partial = try await Self.finished(target, "broken")
                    #expect(partial.phase == .partiallyFailed, "\(logs())")
                    #expect(partial.status?.errors == 1)
                    let failed = try #require(
                        try await nodes.podVolumeRestores(restore: "broken").first { $0.spec.pod.name == "web" })
                    #expect(failed.phase == .failed)
                    #expect(failed.status?.message?.contains("not found") == true, "\(failed.status?.message ?? "")")
                    let errors = try #require(
                        try await target.repository().record(RestoreRecord.self, key: RestoreRecord.key("broken"))
                    )
                    .errors
                    #expect(errors.count == 1)
                    #expect(errors.first?.contains("pod volume shop-two/web/data") == true, "\(errors)")
                    #expect(errors.first?.contains(snapshot) == true && errors.first?.contains("not found") == true)
                    // Its init container is never released: no done file, restore-wait still waiting.
                    #expect(!FileManager.default.fileExists(atPath: broken.web + "/.velero/\(brokenUID)"))
                    #expect(broken.waits[0].isRunning)
                    broken.waits[0].terminate()
                }
            }
        }
    }

    @Test(
        "SIGKILL of a node agent mid-volume: no done file, the init container keeps waiting; the restarted agent redoes the volume and only then releases it"
    )
    func killMidRestore() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            // Restores write at most 64 MB/s: the 512 MiB volume takes some 8 s, which the kill lands in.
            let throttled = ["--write-bytes-per-second", "\(64_000_000)"]
            var agent = try nodes.startAgent("node-k", extra: throttled)
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("shop")
            let uid = try await nodes.pod(
                "big", namespace: "shop", node: "node-k", volumes: #"[{"name":"data","emptyDir":{}}]"#,
                annotations: ["backup.velero.io/backup-volumes": "data"])
            let source = try nodes.volume(
                node: "node-k", podUID: uid, plugin: "kubernetes.io~empty-dir", directory: "data",
                files: ["small": [1, 2, 3]])
            // A sparse file: cheap to make and to store, and as long to write back as the throttle makes it.
            let size: UInt64 = 512 << 20
            _ = FileManager.default.createFile(atPath: source + "/sparse", contents: nil)
            let sparse = try FileHandle(forWritingTo: URL(fileURLWithPath: source + "/sparse"))
            try sparse.truncate(atOffset: size)
            try sparse.close()
            try await harness.withServer(Self.configuration(harness)) {
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"big"},"spec":{"includedNamespaces":["shop"]}}"#,
                    to: Backup.resource, namespace: "velero")
                #expect(try await harness.finishedBackup("big", seconds: 240).phase == .completed)
                let restoreUID = try await Self.restore(harness, "big", backup: "big", mapping: "shop-copy")
                _ = try await nodes.restoredPod("big", namespace: "shop-copy")
                let newUID = try await nodes.schedule("big", namespace: "shop-copy", node: "node-k")
                let target = try nodes.mount(
                    node: "node-k", podUID: newUID, plugin: "kubernetes.io~empty-dir", directory: "data")
                let wait = try nodes.startRestoreWait(
                    restoreUID: restoreUID, volumes: ["data": target], label: "big")
                defer { if wait.isRunning { wait.terminate() } }
                let running = try await harness.waitFor("the volume's progress", seconds: 180) {
                    try await nodes.podVolumeRestores(restore: "big").first {
                        $0.phase == .inProgress && ($0.status?.progress?.bytesDone ?? 0) > 0
                    }
                }
                kill(agent.processIdentifier, SIGKILL)
                agent.waitUntilExit()
                let left = try #require(try await nodes.podVolumeRestores(restore: "big").first)
                #expect(left.phase == .inProgress, "the kill left it running")
                #expect((left.status?.progress?.bytesDone ?? 0) < Int64(size))
                #expect(!FileManager.default.fileExists(atPath: target + "/.velero/\(restoreUID)"))
                try await Task.sleep(for: .milliseconds(300))
                #expect(wait.isRunning, "the init container is not released by a half-written volume")
                #expect(try await harness.restore("big").phase == .inProgress)

                agent = try nodes.startAgent("node-k", extra: throttled)
                #expect(try await NodeCluster.exitStatus(wait, seconds: 300) == 0, "\(nodes.agentLog("node-k"))")
                let attributes = try FileManager.default.attributesOfItem(atPath: target + "/sparse")
                #expect((attributes[.size] as? NSNumber)?.uint64Value == size)
                #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/small")) == Data([1, 2, 3]))
                let restore = try await Self.finished(harness, "big")
                #expect(restore.phase == .completed, "\(nodes.agentLog("node-k"))")
                let redone = try #require(try await nodes.podVolumeRestores(restore: "big").first)
                #expect(redone.name == running.name)
                #expect(redone.phase == .completed)
                #expect(redone.status?.message?.contains("restarted") == true)
                #expect(redone.status?.progress?.bytesDone == Int64(size) + 3)
            }
            kill(agent.processIdentifier, SIGTERM)
            agent.waitUntilExit()
        }
    }

    @Test("bounded: pods never scheduled on a node with an agent fail the restore after the fs-backup timeout")
    func boundedWait() async throws {
        try await ServerHarness.with { harness in
            try await Self.backUpShop(harness)
            var configuration = Self.configuration(harness)
            configuration.podVolumeOperationTimeout = .seconds(2)
            try await harness.withServer(configuration) {
                _ = try await Self.restore(harness, "late", backup: "shop", mapping: "late")
                let restore = try await Self.finished(harness, "late")
                #expect(restore.phase == .partiallyFailed)
                #expect(restore.status?.errors == 2)
                let record = try #require(
                    try await harness.repository().record(RestoreRecord.self, key: RestoreRecord.key("late")))
                #expect(
                    record.errors.allSatisfy { $0.contains("within 2") && $0.contains("not scheduled") },
                    "\(record.errors)")
                let pvrs = try await NodeCluster(harness).podVolumeRestores(restore: "late")
                #expect(pvrs.count == 2)
                #expect(
                    pvrs.allSatisfy { $0.phase == .failed && $0.status?.message?.contains("stopped waiting") == true })
            }
        }
    }
}
