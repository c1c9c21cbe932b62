import ChunkStore
import Collectors
import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("Node agent killed mid-volume", .serialized)
struct NodeAgentRestartTests {
    @Test("SIGKILL of a node agent mid-volume: the PodVolumeBackup stays InProgress, the restarted agent redoes it")
    func killMidVolume() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            var agent = try nodes.startAgent("node-k")
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("big")
            let uid = try await nodes.pod(
                "big", namespace: "big", node: "node-k", volumes: #"[{"name":"data","emptyDir":{}}]"#,
                annotations: ["backup.velero.io/backup-volumes": "data"])
            let path = try nodes.volume(
                node: "node-k", podUID: uid, plugin: "kubernetes.io~empty-dir", directory: "data",
                files: ["small": [1, 2, 3]])
            // A sparse file: long to read, cheap to make and to store.
            let size: Int64 = 512 << 20
            _ = FileManager.default.createFile(atPath: path + "/sparse", contents: nil)
            let sparse = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/sparse"))
            try sparse.truncate(atOffset: UInt64(size))
            try sparse.close()

            var configuration = harness.configuration()
            configuration.podVolumePollInterval = .milliseconds(100)
            configuration.podVolumeOperationTimeout = .seconds(120)
            try await harness.withServer(configuration) {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"big","namespace":"velero"},\
                    "spec":{"includedNamespaces":["big"]}}
                    """, to: Backup.resource, namespace: "velero")
                // Killed once it has reported progress on the volume.
                let running = try await harness.waitFor("the volume's progress", seconds: 60) {
                    try await nodes.podVolumeBackups(backup: "big").first {
                        $0.phase == .inProgress && ($0.status?.progress?.bytesDone ?? 0) > 0
                    }
                }
                kill(agent.processIdentifier, SIGKILL)
                agent.waitUntilExit()
                let left = try #require(try await nodes.podVolumeBackups(backup: "big").first)
                #expect(left.phase == .inProgress, "the kill left it running")
                #expect((left.status?.progress?.bytesDone ?? 0) < size)
                #expect(try await harness.backup("big")?.phase == .inProgress)

                agent = try nodes.startAgent("node-k")
                let backup = try await harness.finishedBackup("big", seconds: 120)
                #expect(backup.phase == .completed, "\(nodes.agentLog("node-k"))")
                let redone = try #require(try await nodes.podVolumeBackups(backup: "big").first)
                #expect(redone.name == running.name)
                #expect(redone.phase == .completed)
                #expect(redone.status?.message?.contains("restarted") == true)
                let volume = try #require(try await harness.storedBackup("big")?.volumes.first)
                #expect(volume.snapshot == redone.status?.snapshotID)
                #expect(volume.logicalBytes == size + 3)
            }
            kill(agent.processIdentifier, SIGTERM)
            agent.waitUntilExit()
        }
    }
}
