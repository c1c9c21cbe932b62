import Foundation
import KubeClient
import Testing
import VeleroAPI

/// The test's kubelet (and scheduler) for restored pods: kube-sim runs no containers, so the test binds a restored
/// pod to a node (`spec.nodeName`), makes its volume directories under that node's kubelet root as the kubelet
/// does before it starts the init containers, and runs the `restore-wait` init container as a process that sees
/// each volume at `<restores root>/<volume>`.
extension NodeCluster {
    /// Waits until the restore has created the pod and returns it as JSON.
    func restoredPod(_ name: String, namespace: String) async throws -> [String: Any] {
        try await harness.waitFor("the restored pod \(namespace)/\(name)", seconds: 240) { () -> [String: Any]? in
            guard let object = try? await harness.client.get(Self.pods, namespace: namespace, name: name) else {
                return nil
            }
            return try JSONSerialization.jsonObject(with: Data(object.json)) as? [String: Any]
        }
    }

    /// Schedules the pod on `node` and returns its uid.
    func schedule(_ name: String, namespace: String, node: String) async throws -> String {
        try await harness.client.mergePatch(
            Self.pods, namespace: namespace, name: name, patch: Array(#"{"spec":{"nodeName":"\#(node)"}}"#.utf8))
        return try #require(try await harness.client.get(Self.pods, namespace: namespace, name: name).metadata.uid)
    }

    /// Makes an empty volume directory, as the kubelet mounts it, and returns its path.
    func mount(node: String, podUID: String, plugin: String, directory: String) throws -> String {
        try volume(node: node, podUID: podUID, plugin: plugin, directory: directory, files: [:])
    }

    /// The files under a directory (relative path → bytes), leaving out the done files' `.velero`.
    static func files(at root: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard !relative.hasPrefix(".velero") else { continue }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue {
                files[relative] = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative)))
            }
        }
        return files
    }

    /// Starts `velero-cas restore-wait` as the init container would run, each volume linked at
    /// `<root>/<volume>` (standing in for the container's mounts).
    func startRestoreWait(restoreUID: String, volumes: [String: String], label: String) throws -> Process {
        let root = harness.temp.sub("restores-\(label)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, path) in volumes {
            try FileManager.default.createSymbolicLink(atPath: "\(root)/\(name)", withDestinationPath: path)
        }
        return try ServerProcess.start(
            ["restore-wait", restoreUID, "--restores-root", root, "--interval", "50ms", "--timeout", "10m"],
            environment: [:], log: harness.temp.sub("restore-wait-\(label).log"))
    }

    func podVolumeRestores(restore: String) async throws -> [PodVolumeRestore] {
        try await objects(PodVolumeRestore.self, labelSelector: "velero.io/restore-name=\(restore)")
    }

    /// The Velero objects of a kind in the `velero` namespace that match a label selector.
    func objects<K: VeleroKind>(_ kind: K.Type, labelSelector: String) async throws -> [K] {
        var result: [K] = []
        try await harness.client.listAll(K.resource, namespace: "velero", labelSelector: labelSelector) { page in
            for object in page { result.append(try K.decode(object.json)) }
        }
        return result
    }

    /// Waits for a process to end, off the cooperative pool, and returns its status.
    static func exitStatus(_ process: Process, seconds: Double = 300) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else {
                process.terminate()
                throw ServerHarness.TimedOut(what: "process \(process.processIdentifier) to end")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}
