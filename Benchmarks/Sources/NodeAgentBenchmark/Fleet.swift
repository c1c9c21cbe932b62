import BenchmarkSupport
import ChunkStore
import Foundation
import KubeClient
import SystemIO
import VeleroAPI

/// Nodes as the benchmark plays them against kube-sim: each node a kubelet root directory of its own and a
/// `velero-cas node-agent` process with NODE_NAME set; pods created over the API on a node, their emptyDir volume
/// directories where the kubelet would mount them; PodVolumeBackups and PodVolumeRestores created directly, as the
/// server would create them, so the agents do all the volume work.
struct Fleet {
    let client: KubeClient
    let cli: String
    let kubeconfig: String
    let workdir: String
    static let password = "benchmark"
    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)
    static let plugin = "kubernetes.io~empty-dir"

    func root(_ node: String) -> String { workdir + "/kubelet-\(node)" }

    /// Starts the node's agent (production defaults; `readBytesPerSecond` bounds its reads when given).
    func startAgent(_ node: String, readBytesPerSecond: Int?) throws -> Process {
        try FileSystem.makeDirectories(root(node))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli)
        process.arguments =
            ["node-agent", "--kubeconfig", kubeconfig, "--namespace", "velero", "--kubelet-root-dir", root(node)]
            + (readBytesPerSecond.map { ["--read-bytes-per-second", String($0)] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging([
            "NODE_NAME": node, "VELERO_CAS_PASSWORD": Self.password, "HOME": workdir + "/home",
        ]) { $1 }
        _ = FileManager.default.createFile(atPath: workdir + "/agent-\(node).log", contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: workdir + "/agent-\(node).log"))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    /// A pod on `node` with one emptyDir volume `data`; returns its uid and its volume directory.
    func pod(_ name: String, node: String) async throws -> (uid: String, volume: String) {
        let object = try await client.create(
            Self.pods, namespace: "bench",
            json: Array(
                """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"bench"},"spec":{"nodeName":\
                "\(node)","containers":[{"name":"app","image":"busybox"}],"volumes":[{"name":"data","emptyDir":{}}]},\
                "status":{"phase":"Running"}}
                """.utf8))
        let uid = object.metadata.uid ?? ""
        return (uid, "\(root(node))/pods/\(uid)/volumes/\(Self.plugin)/data")
    }

    /// A local BackupStorageLocation over a fresh encrypted store (made here, as `velero-cas install` would).
    func location(_ name: String) async throws {
        let path = workdir + "/store-\(name)"
        _ = try await BenchmarkStore.open(try LocalDirectoryStore(root: path, create: true))
        var location = BackupStorageLocation(
            name: name, namespace: "velero", spec: .init(provider: "local", config: ["path": path]))
        location.spec.accessMode = "ReadWrite"
        _ = try await client.create(BackupStorageLocation.resource, namespace: "velero", json: try location.encoded())
    }

    func backUp(_ name: String, pod: String, uid: String, node: String, location: String) async throws {
        _ = try await client.create(
            PodVolumeBackup.resource, namespace: "velero",
            json: Array(
                """
                {"apiVersion":"velero.io/v1","kind":"PodVolumeBackup","metadata":{"name":"\(name)","namespace":"velero"},\
                "spec":{"node":"\(node)","pod":{"kind":"Pod","namespace":"bench","name":"\(pod)","uid":"\(uid)"},\
                "volume":"data","backupStorageLocation":"\(location)"}}
                """.utf8))
    }

    func restore(_ name: String, pod: String, uid: String, snapshot: String, location: String) async throws {
        _ = try await client.create(
            PodVolumeRestore.resource, namespace: "velero",
            json: Array(
                """
                {"apiVersion":"velero.io/v1","kind":"PodVolumeRestore","metadata":{"name":"\(name)","namespace":"velero",\
                "labels":{"\(PodVolumeRestore.restoreUIDLabel)":"bench-\(name)"}},"spec":{"pod":{"kind":"Pod",\
                "namespace":"bench","name":"\(pod)","uid":"\(uid)"},"volume":"data","backupStorageLocation":\
                "\(location)","snapshotID":"\(snapshot)","sourceNamespace":"bench"}}
                """.utf8))
    }

    /// Waits until every object of `kind` named in `names` is final; fails unless all completed. Returns the
    /// objects by name.
    func finished<K: VeleroKind>(_ kind: K.Type, _ names: Set<String>) async throws -> [String: K] {
        let deadline = ContinuousClock.now + .seconds(3600)
        while ContinuousClock.now < deadline {
            var done: [String: K] = [:]
            for object in try await client.list(K.resource, namespace: "velero").items where names.contains(object.name)
            {
                let phase = try JSONDecoder().decode(LoosePhase.self, from: Data(object.json)).status?.phase ?? ""
                if phase == "Completed" {
                    done[object.name] = try K.decode(object.json)
                } else if ["Failed", "Canceled"].contains(phase) {
                    throw BenchError(
                        "\(K.kind) \(object.name) ended \(phase): \(String(decoding: object.json, as: UTF8.self))")
                }
            }
            if done.count == names.count { return done }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("the \(K.kind)s did not finish within an hour")
    }
}

/// An object's `status.phase`, read without decoding the rest.
private struct LoosePhase: Decodable {
    struct Status: Decodable { var phase: String? }
    var status: Status?
}
