import Foundation
import KubeClient
import TestSupport
import Testing
import VeleroAPI

/// Nodes for node-agent tests: each node is a kubelet root directory of its own and a `velero-cas node-agent`
/// process with NODE_NAME set, against the harness's kube-sim; pods are created over the API with a node name,
/// and their volume directories written where the kubelet would mount them.
final class NodeCluster: Sendable {
    let harness: ServerHarness
    let kubeconfig: String

    init(_ harness: ServerHarness) throws {
        self.harness = harness
        kubeconfig = harness.temp.sub("kubeconfig")
        try harness.sim.writeKubeconfig(path: kubeconfig)
    }

    func root(_ node: String) -> String { harness.temp.sub("kubelet-\(node)") }
    func log(_ node: String) -> String { harness.temp.sub("agent-\(node).log") }
    func agentLog(_ node: String) -> String { (try? String(contentsOfFile: log(node), encoding: .utf8)) ?? "" }

    /// Starts the node's agent process (with `extra` arguments).
    func startAgent(_ node: String, extra: [String] = []) throws -> Process {
        try FileManager.default.createDirectory(atPath: root(node), withIntermediateDirectories: true)
        return try ServerProcess.start(
            [
                "node-agent", "--kubeconfig", kubeconfig, "--namespace", "velero", "--kubelet-root-dir", root(node),
                "--concurrency", "2",
            ] + extra,
            environment: [
                "NODE_NAME": node, "HOME": harness.temp.sub("home"), "VELERO_CAS_PASSWORD": "server-test-password",
            ], log: log(node))
    }

    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)
    static let claims = APIResource(
        group: "", version: "v1", name: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true)

    func namespace(_ name: String) async throws {
        try await harness.apply(
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#,
            to: ServerHarness.namespacesResource)
    }

    /// Creates a pod (volumes as JSON) and returns its uid as the server assigned it.
    func pod(
        _ name: String, namespace: String, node: String, volumes: String, annotations: [String: String] = [:]
    ) async throws -> String {
        let annotationJSON = String(decoding: try JSONEncoder().encode(annotations), as: UTF8.self)
        let object = try await harness.apply(
            """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"\(namespace)",\
            "annotations":\(annotationJSON)},"spec":{"nodeName":"\(node)","containers":[{"name":"app",\
            "image":"busybox"}],"volumes":\(volumes)},"status":{"phase":"Running"}}
            """, to: Self.pods, namespace: namespace)
        return try #require(object.metadata.uid)
    }

    func claim(_ name: String, namespace: String, volume: String) async throws -> String {
        let object = try await harness.apply(
            """
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"\(name)","namespace":"\(namespace)"},\
            "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},\
            "volumeName":"\(volume)"}}
            """, to: Self.claims, namespace: namespace)
        return try #require(object.metadata.uid)
    }

    /// Writes files into a pod volume's directory on a node (`plugin` as the kubelet names it).
    @discardableResult
    func volume(
        node: String, podUID: String, plugin: String, directory: String, files: [String: [UInt8]]
    ) throws -> String {
        var path = "\(root(node))/pods/\(podUID)/volumes/\(plugin)/\(directory)"
        if plugin == "kubernetes.io~csi" { path += "/mount" }
        for (name, bytes) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: file))
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func podVolumeBackups(backup: String) async throws -> [PodVolumeBackup] {
        try await objects(PodVolumeBackup.self, labelSelector: "velero.io/backup-name=\(backup)")
    }

    /// Reproducible bytes that do not compress away (so stored sizes say what was stored).
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}
