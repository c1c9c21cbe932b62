import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

/// Block-mode volumes (a claim with `volumeMode: Block`, used by a container through `volumeDevices`) have no
/// directory for file-system backup to read: the kubelet attaches them under `<root>/pods/<uid>/volumeDevices/`.
/// A chosen one must be reported, never skipped in silence.
@Suite("Node agents: block volumes are reported, not skipped", .serialized)
struct NodeAgentBlockVolumeTests {
    static let notSupported = "block volumes are not supported by file-system backup"

    func claim(_ harness: ServerHarness, _ name: String, volume: String, mode: String?) async throws {
        let modeJSON = mode.map { #","volumeMode":"\#($0)""# } ?? ""
        try await harness.apply(
            """
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"\(name)","namespace":"disks"},\
            "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},\
            "volumeName":"\(volume)"\(modeJSON)}}
            """, to: NodeCluster.claims, namespace: "disks")
    }

    /// A device node where the kubelet would put it (a plain file stands in for the block device).
    func device(_ nodes: NodeCluster, node: String, podUID: String, name: String) throws {
        let directory = "\(nodes.root(node))/pods/\(podUID)/volumeDevices/kubernetes.io~csi"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data([0]).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    @Test(
        "chosen block volumes (a Block claim, a Block ephemeral volume) make the backup PartiallyFailed naming each, in its errors and its log; an agent fails a PodVolumeBackup of one with the reason"
    )
    func blockVolumes() async throws {
        try await ServerHarness.with { harness in
            let nodes = try NodeCluster(harness)
            let agent = try nodes.startAgent("node-a")
            defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
            try await nodes.namespace("disks")
            try await claim(harness, "raw-disk", volume: "pv-raw", mode: "Block")
            try await claim(harness, "db-scratch", volume: "pv-scratch", mode: "Block")
            let object = try await harness.apply(
                """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"db","namespace":"disks","annotations":\
                {"backup.velero.io/backup-volumes":"data,disk,scratch"}},"spec":{"nodeName":"node-a",\
                "containers":[{"name":"engine","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}],\
                "volumeDevices":[{"name":"disk","devicePath":"/dev/xvda"},{"name":"scratch","devicePath":"/dev/xvdb"}]}],\
                "volumes":[{"name":"data","emptyDir":{}},\
                {"name":"disk","persistentVolumeClaim":{"claimName":"raw-disk"}},\
                {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{"volumeMode":"Block",\
                "accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}}]},\
                "status":{"phase":"Running"}}
                """, to: NodeCluster.pods, namespace: "disks")
            let uid = try #require(object.metadata.uid)
            try nodes.volume(
                node: "node-a", podUID: uid, plugin: "kubernetes.io~empty-dir", directory: "data",
                files: ["f": [1, 2, 3]])
            for name in ["pv-raw", "pv-scratch"] { try device(nodes, node: "node-a", podUID: uid, name: name) }

            var configuration = harness.configuration()
            configuration.podVolumePollInterval = .milliseconds(100)
            configuration.podVolumeOperationTimeout = .seconds(60)
            try await harness.withServer(configuration) {
                try await harness.apply(
                    harness.backupManifest("raw", namespace: "disks"), to: Backup.resource, namespace: "velero")
                let backup = try await harness.finishedBackup("raw", seconds: 60)
                #expect(backup.phase == .partiallyFailed, "\(nodes.agentLog("node-a"))")
                let record = try #require(try await harness.storedBackup("raw"))
                for volume in ["disk", "scratch"] {
                    let errors = record.errors.filter { $0.contains("pod volume disks/db/\(volume) ") }
                    #expect(errors.count == 1, "\(record.errors)")
                    #expect(errors.first?.contains(Self.notSupported) == true, "\(record.errors)")
                }
                #expect(record.volumes.contains { $0.podVolume?.volume == "data" && $0.snapshot != nil })
                // Only the file-system volume was handed to the agent.
                let pvbs = try await nodes.podVolumeBackups(backup: "raw")
                #expect(pvbs.map(\.spec.volume) == ["data"])
                #expect(pvbs.first?.phase == .completed)
                let log = try await RunLogTests.log(harness, .backupLog, "raw")
                let lines = log.split(separator: "\n").filter {
                    $0.contains("disks/db/disk") && $0.contains(Self.notSupported)
                }
                #expect(lines.contains { $0.contains("level=error") }, "\(log)")

                // A PodVolumeBackup made by another server (as Velero's would be) for a block volume: the agent
                // fails it with the reason instead of looking for a directory that will never be there.
                try await claim(harness, "old-disk", volume: "pv-old", mode: nil)
                let legacy = try await harness.apply(
                    """
                    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"legacy","namespace":"disks"},"spec":\
                    {"nodeName":"node-a","containers":[{"name":"c","image":"busybox",\
                    "volumeDevices":[{"name":"old","devicePath":"/dev/xvdc"}]}],\
                    "volumes":[{"name":"old","persistentVolumeClaim":{"claimName":"old-disk"}}]},\
                    "status":{"phase":"Running"}}
                    """, to: NodeCluster.pods, namespace: "disks")
                let legacyUID = try #require(legacy.metadata.uid)
                try device(nodes, node: "node-a", podUID: legacyUID, name: "pv-old")
                for (name, pod, podUID, volume) in [
                    ("direct-disk", "db", uid, "disk"), ("direct-old", "legacy", legacyUID, "old"),
                ] {
                    try await harness.apply(
                        """
                        {"apiVersion":"velero.io/v1","kind":"PodVolumeBackup","metadata":{"name":"\(name)"},\
                        "spec":{"node":"node-a","pod":{"kind":"Pod","namespace":"disks","name":"\(pod)",\
                        "uid":"\(podUID)"},"volume":"\(volume)","backupStorageLocation":"default"}}
                        """, to: PodVolumeBackup.resource, namespace: "velero")
                }
                for (name, detail) in [
                    ("direct-disk", "claim disks/raw-disk has volumeMode Block"),
                    ("direct-old", "/pods/\(legacyUID)/volumeDevices/kubernetes.io~csi/pv-old"),
                ] {
                    let failed = try await harness.waitFor("\(name) to end") { () -> PodVolumeBackup? in
                        let object = try await harness.client.get(
                            PodVolumeBackup.resource, namespace: "velero", name: name)
                        let decoded = try PodVolumeBackup.decode(object.json)
                        return decoded.phase.isFinal ? decoded : nil
                    }
                    let message = failed.status?.message ?? ""
                    #expect(failed.phase == .failed, "\(message)")
                    #expect(message.contains("is a block volume") && message.contains(Self.notSupported), "\(message)")
                    #expect(message.contains(detail), "\(message)")
                }
            }
        }
    }
}
