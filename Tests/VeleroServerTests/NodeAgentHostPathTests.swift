import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import Restorer
import Testing
import VeleroAPI
import VeleroServer

@Suite("Node agents: hostPath and local persistent volumes backed up on their node", .serialized)
struct NodeAgentHostPathTests {
    static let volumes = APIResource(
        group: "", version: "v1", name: "persistentvolumes", kind: "PersistentVolume", namespaced: false)

    static func configuration(_ harness: ServerHarness, timeout: Duration) -> VeleroServer.Configuration {
        var configuration = harness.configuration()
        configuration.podVolumePollInterval = .milliseconds(100)
        configuration.podVolumeOperationTimeout = timeout
        configuration.hostPathVolumesOnNodeAgents = true
        return configuration
    }

    /// A persistent volume (`source` is `local` or `hostPath`) bound to claim db/<claim>, its node affinity naming
    /// `node`.
    static func persistentVolume(
        _ harness: ServerHarness, _ name: String, source: String, path: String, node: String, claim: String
    ) async throws {
        try await harness.apply(
            """
            {"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"\(name)"},"spec":{\
            "capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"\(source)":{"path":"\(path)"},\
            "claimRef":{"namespace":"db","name":"\(claim)"},"nodeAffinity":{"required":{"nodeSelectorTerms":[\
            {"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["\(node)"]}]}]}}}}
            """, to: volumes)
    }

    @Test(
        "with --node-agent-host-path-volumes a local volume is read by the agent of the node its affinity names; one on a node without an agent fails by name"
    )
    func onTheirNode() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            // The agent runs "on the node": its host root is this machine's.
            let agent = try nodes.startAgent("node-b", extra: ["--host-root-dir", "/"])
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("db")
            let disk = harness.temp.sub("node-b-disk")
            let files: [String: [UInt8]] = ["table.db": NodeCluster.noise(400_000, seed: 3), "conf/db.ini": [1, 2]]
            for (name, bytes) in files {
                let file = "\(disk)/\(name)"
                try FileManager.default.createDirectory(
                    atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: file))
            }
            try await Self.persistentVolume(
                harness, "pv-local", source: "local", path: disk, node: "node-b", claim: "data")
            _ = try await nodes.claim("data", namespace: "db", volume: "pv-local")
            try FileManager.default.createDirectory(
                atPath: harness.temp.sub("elsewhere"), withIntermediateDirectories: true)
            try await Self.persistentVolume(
                harness, "pv-elsewhere", source: "hostPath", path: harness.temp.sub("elsewhere"), node: "node-z",
                claim: "other")
            _ = try await nodes.claim("other", namespace: "db", volume: "pv-elsewhere")

            try await harness.withServer(Self.configuration(harness, timeout: .seconds(4))) {
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"disks"},"spec":{"includedNamespaces":["db"]}}"#,
                    to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("disks", seconds: 240)
                #expect(backup.phase == .partiallyFailed, "\(nodes.agentLog("node-b"))")
                let record = try #require(try await harness.storedBackup("disks"))
                let local = try #require(record.volumes.first { $0.persistentVolume == "pv-local" })
                #expect(local.podVolume == nil && local.path == disk && local.claim == "db/data")
                let snapshot = try #require(local.snapshot, "\(local.skipped ?? "") \(nodes.agentLog("node-b"))")
                #expect(snapshot.hasPrefix("pvb."), "read by the node agent, not by the server")
                #expect(local.logicalBytes == 400_002)
                let pvbs = try await nodes.podVolumeBackups(backup: "disks")
                let pvb = try #require(pvbs.first { $0.spec.volume == "pv-local" })
                #expect(pvb.spec.node == "node-b" && pvb.phase == .completed)
                #expect(pvb.metadata.annotations?[PodVolumeBackup.hostPathAnnotation] == disk)
                let target = harness.temp.sub("restored")
                _ = try await TreeRestore(repository: try await harness.repository()).run(
                    snapshot: snapshot, into: target)
                for (name, bytes) in files {
                    #expect(try Data(contentsOf: URL(fileURLWithPath: "\(target)/\(name)")) == Data(bytes))
                }
                let warning = try #require(record.warnings.first { $0.contains("pv-elsewhere") }, "\(record.warnings)")
                #expect(warning.contains("on node node-z failed") && warning.contains("node-z?"), "\(warning)")
            }

            // Into another cluster whose node-b has its own disk: written there by node-b's agent.
            try await ServerHarness.with(sharedStore: harness.storePath) { target in
                let targetNodes = try NodeCluster(target)
                let targetRoot = target.temp.sub("node-b-root")
                try FileManager.default.createDirectory(atPath: targetRoot, withIntermediateDirectories: true)
                let targetAgent = try targetNodes.startAgent("node-b", extra: ["--host-root-dir", targetRoot])
                defer { if targetAgent.isRunning { kill(targetAgent.processIdentifier, SIGKILL) } }
                try await target.withServer(Self.configuration(target, timeout: .seconds(300))) {
                    try await target.apply(
                        #"{"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"disks"},"spec":{"backupName":"disks"}}"#,
                        to: Restore.resource, namespace: "velero")
                    let restore = try await target.waitFor("restore disks to finish", seconds: 360) {
                        let restore = try await target.restore("disks")
                        return restore.phase.isFinal ? restore : nil
                    }
                    #expect(restore.phase == .completed, "\(targetNodes.agentLog("node-b"))")
                    for (name, bytes) in files {
                        #expect(
                            try Data(contentsOf: URL(fileURLWithPath: "\(targetRoot)\(disk)/\(name)")) == Data(bytes),
                            "\(targetNodes.agentLog("node-b"))")
                    }
                    let pvrs = try await targetNodes.podVolumeRestores(restore: "disks")
                    #expect(pvrs.map(\.spec.volume) == ["pv-local"])
                    #expect(pvrs.first?.status?.node == "node-b" && pvrs.first?.phase == .completed)
                    #expect(!FileManager.default.fileExists(atPath: "\(targetRoot)\(disk)/.velero"), "no done file")
                    let stored = try #require(
                        try await target.repository().record(RestoreRecord.self, key: RestoreRecord.key("disks")))
                    #expect(stored.volumes.contains { $0.persistentVolume == "pv-local" && $0.error == nil })
                }
            }
        }
    }
}
