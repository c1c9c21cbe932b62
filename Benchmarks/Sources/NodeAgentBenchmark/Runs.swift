import BenchmarkSupport
import Foundation
import SampleData
import SystemIO
import VeleroAPI

/// One measured backup (and, for the unthrottled run, restore) over the benchmark's volumes: the parts of the
/// generated data are moved into pods' volume directories (a rename, no copy), spread evenly over the nodes, and
/// moved back afterwards, so every run reads the same bytes.
struct Runs {
    let fleet: Fleet
    let parts: Int

    struct Backup {
        var label: String
        var nodes: [String]
        var bytes: Int64
        var seconds: Double
        /// Per part: the node, and the snapshot its PodVolumeBackup made.
        var snapshots: [(node: String, snapshot: String)]
        var mbps: Double { Double(bytes) / seconds / 1e6 }
    }

    func part(_ index: Int) -> String { fleet.workdir + "/data/part-\(index)" }

    /// Starts an agent per node, waits for them to watch, and runs `body`; the agents are stopped afterwards.
    func withAgents<T>(_ nodes: [String], readBytesPerSecond: Int?, _ body: () async throws -> T) async throws -> T {
        let agents = try nodes.map { try fleet.startAgent($0, readBytesPerSecond: readBytesPerSecond) }
        defer {
            for agent in agents where agent.isRunning {
                agent.terminate()
                agent.waitUntilExit()
            }
        }
        // Their start (listing, opening watches) is not measured.
        try await Task.sleep(for: .seconds(2))
        for (agent, node) in zip(agents, nodes) where !agent.isRunning {
            throw BenchError("the node agent of \(node) exited: see \(fleet.workdir)/agent-\(node).log")
        }
        return try await body()
    }

    /// Backs up every part with `nodes` agents; the clock runs from the first PodVolumeBackup created to the last
    /// one Completed.
    func backup(_ label: String, nodes count: Int, readBytesPerSecond: Int?) async throws -> Backup {
        let nodes = (0..<count).map { "\(label)-node-\($0)" }
        try await fleet.location(label)
        var pods: [(name: String, uid: String, node: String, volume: String)] = []
        for index in 0..<parts {
            let node = nodes[index % count]
            let (uid, volume) = try await fleet.pod("\(label)-\(index)", node: node)
            try FileSystem.makeDirectories((volume as NSString).deletingLastPathComponent)
            try FileSystem.rename(part(index), to: volume)
            pods.append(("\(label)-\(index)", uid, node, volume))
        }
        defer { for (index, pod) in pods.enumerated() { try? FileSystem.rename(pod.volume, to: part(index)) } }
        return try await withAgents(nodes, readBytesPerSecond: readBytesPerSecond) {
            let started = ContinuousClock.now
            for pod in pods {
                try await fleet.backUp(pod.name, pod: pod.name, uid: pod.uid, node: pod.node, location: label)
            }
            let done = try await fleet.finished(PodVolumeBackup.self, Set(pods.map(\.name)))
            let seconds = (ContinuousClock.now - started).seconds
            let bytes = done.values.reduce(Int64(0)) { $0 + ($1.status?.progress?.totalBytes ?? 0) }
            return Backup(
                label: label, nodes: nodes, bytes: bytes, seconds: seconds,
                snapshots: pods.map { ($0.node, done[$0.name]?.status?.snapshotID ?? "") })
        }
    }

    /// A restore's pods, for `verify` once every round is done.
    struct Restored {
        var seconds: Double
        var volumes: [String]
    }

    /// Restores a backup's snapshots into new pods (named for `round`) on the same nodes with as many agents,
    /// unthrottled; returns the seconds from the first PodVolumeRestore created to the last one Completed. The
    /// restored trees stay until `verify`: removing them would hand the next measurement freshly freed memory and
    /// recently deleted inodes, both of which change what writing costs on this VM.
    func restore(_ backup: Backup, round: Int) async throws -> Restored {
        var pods: [(name: String, uid: String, volume: String, snapshot: String)] = []
        for (index, source) in backup.snapshots.enumerated() {
            let name = "\(backup.label)-restored-\(round)-\(index)"
            let (uid, volume) = try await fleet.pod(name, node: source.node)
            try FileSystem.makeDirectories(volume)
            pods.append((name, uid, volume, source.snapshot))
        }
        let seconds = try await withAgents(backup.nodes, readBytesPerSecond: nil) {
            let started = ContinuousClock.now
            for pod in pods {
                try await fleet.restore(
                    pod.name, pod: pod.name, uid: pod.uid, snapshot: pod.snapshot, location: backup.label)
            }
            _ = try await fleet.finished(PodVolumeRestore.self, Set(pods.map(\.name)))
            return (ContinuousClock.now - started).seconds
        }
        return Restored(seconds: seconds, volumes: pods.map(\.volume))
    }

    /// Checks each restored volume against its part of the data, then removes it.
    func verify(_ restored: Restored) throws {
        for (index, volume) in restored.volumes.enumerated() {
            // The done file that releases the pod's restore-wait is the agent's, not the data's.
            try FileSystem.removeTree(volume + "/.velero")
            let differences = try SampleData.compareTrees(part(index), volume)
            guard differences.isEmpty else {
                throw BenchError("volume \(index) restored differently: \(differences.prefix(3))")
            }
            try FileSystem.removeTree(volume)
        }
    }
}
