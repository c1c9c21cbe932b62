import BackupModel
import Foundation
import KubeClient
import Testing

@testable import Collectors
@testable import Restorer

@Suite("The restore-wait init container and the pod volumes a restore hands to node agents")
struct RestoreWaitTests {
    static let pods = APIResource(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true)

    static func podVolume(_ namespace: String, _ pod: String, _ volume: String, snapshot: String?) -> VolumeRecord {
        var record = VolumeRecord(
            persistentVolume: "", claim: nil, path: "/var/lib/kubelet/pods/old/volumes/x/\(volume)",
            snapshot: snapshot, files: 1, logicalBytes: 10, newStoredBytes: 10, seconds: 0, skipped: nil)
        record.podVolume = PodVolumeSource(
            namespace: namespace, pod: pod, podUID: "old-uid", volume: volume, node: "node-a")
        return record
    }

    static let volumes = [
        podVolume("shop", "web", "data", snapshot: "pvb.1"), podVolume("shop", "web", "cache", snapshot: "pvb.2"),
        podVolume("shop", "web", "broken", snapshot: nil), podVolume("shop", "db", "data", snapshot: "pvb.3"),
    ]

    static func pod(_ name: String, initContainers: String = "[]", securityContext: String = "") -> String {
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"shop","uid":"old"},\
        "spec":{"nodeName":"node-a","initContainers":\(initContainers),\
        "containers":[{"name":"app","image":"nginx"\(securityContext)}],\
        "volumes":[{"name":"data","emptyDir":{}},{"name":"cache","emptyDir":{}},{"name":"broken","emptyDir":{}},\
        {"name":"conf","configMap":{"name":"c"}}]}}
        """
    }

    static func spec(_ json: String, _ transform: ObjectTransform) throws -> [String: Any] {
        guard case .restore(let bytes, _, _) = try transform.apply(Array(json.utf8), resource: pods) else {
            Issue.record("the pod was not restored")
            return [:]
        }
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return try #require(object?["spec"] as? [String: Any])
    }

    @Test("a pod with pod volume data gets restore-wait first, mounting each such volume at /restores/<volume>")
    func addsFirst() throws {
        var transform = ObjectTransform(namespaceMappings: ["shop": "shop-copy"])
        transform.restoreWait = RestoreWaitContainer(
            image: "reg/velero-cas:1.2", restoreUID: "uid-1", volumes: Self.volumes)
        let spec = try Self.spec(
            Self.pod("web", initContainers: #"[{"name":"migrate","image":"m"},{"name":"restore-wait","image":"old"}]"#),
            transform)
        let inits = try #require(spec["initContainers"] as? [[String: Any]])
        #expect(inits.map { $0["name"] as? String } == ["restore-wait", "migrate"], "the old one removed, ours first")
        let wait = inits[0]
        #expect(wait["image"] as? String == "reg/velero-cas:1.2")
        #expect(wait["args"] as? [String] == ["restore-wait", "uid-1"])
        let mounts = try #require(wait["volumeMounts"] as? [[String: String]])
        // Only volumes with a snapshot: "broken" failed at backup time, "conf" was never backed up.
        #expect(
            mounts == [
                ["name": "cache", "mountPath": "/restores/cache"], ["name": "data", "mountPath": "/restores/data"],
            ])
        let env = try #require(wait["env"] as? [[String: Any]])
        #expect(env.compactMap { $0["name"] as? String } == ["POD_NAMESPACE", "POD_NAME"])
        let security = try #require(wait["securityContext"] as? [String: Any])
        #expect(security["runAsNonRoot"] as? Bool == true)
        #expect(spec["nodeName"] == nil)
    }

    @Test("pods without pod volume data are left alone; the first container's security context is copied")
    func otherPods() throws {
        var transform = ObjectTransform()
        transform.restoreWait = RestoreWaitContainer(image: "i", restoreUID: "u", volumes: Self.volumes)
        let plain = try Self.spec(Self.pod("other", initContainers: #"[{"name":"migrate","image":"m"}]"#), transform)
        #expect((plain["initContainers"] as? [[String: Any]])?.map { $0["name"] as? String } == ["migrate"])
        let stale = try Self.spec(
            Self.pod("other", initContainers: #"[{"name":"restic-wait","image":"m"}]"#), transform)
        #expect(stale["initContainers"] == nil, "a legacy restic-wait left from an earlier restore goes")
        let db = try Self.spec(Self.pod("db", securityContext: #","securityContext":{"runAsUser":7}"#), transform)
        let wait = try #require((db["initContainers"] as? [[String: Any]])?.first)
        #expect((wait["securityContext"] as? [String: Any])?["runAsUser"] as? Int == 7)
        #expect((wait["volumeMounts"] as? [[String: String]])?.map { $0["name"] } == ["data"])
        // Without restoreWait (the CLI's local mode) nothing is added.
        let local = try Self.spec(Self.pod("web"), ObjectTransform())
        #expect((local["initContainers"] as? [[String: Any]])?.isEmpty == true)
    }

    @Test("targets: volumes with a snapshot of pods the restore created, in the mapped namespace; others are warned")
    func targets() {
        var backup = BackupRecord(
            name: "b", filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "default", cluster: "c")
        backup.volumes = Self.volumes + [Self.podVolume("elsewhere", "x", "data", snapshot: "pvb.4")]
        var options = RestoreOptions()
        options.namespaceMappings = ["shop": "shop-copy"]
        let result = RestoreResult(
            phase: .completed,
            items: [
                RestoreItemResult(resource: "pods", namespace: "shop-copy", name: "web", outcome: .created),
                RestoreItemResult(
                    resource: "pods", namespace: "shop-copy", name: "db", outcome: .skippedExists,
                    message: "already exists and differs from the backup"),
            ], warnings: [], seconds: 0)
        let (targets, warnings) = PodVolumeRestoring.targets(backup, options: options, result: result)
        #expect(
            targets.map { "\($0.namespace)/\($0.source.pod)/\($0.source.volume)=\($0.snapshot)" } == [
                "shop-copy/web/data=pvb.1", "shop-copy/web/cache=pvb.2",
            ])
        #expect(targets.allSatisfy { $0.source.namespace == "shop" })
        #expect(warnings.count == 1)
        #expect(
            warnings.first?.contains("shop-copy/db/data") == true && warnings.first?.contains("already exists") == true)
        let local = PodVolumeRestoring.leftOut(backup, options: options, result: result)
        #expect(local.count == 2 && local.allSatisfy { $0.contains("node agents") })
    }

    @Test("a pod volume the agents did not restore is an error naming it; the restore becomes PartiallyFailed")
    func failures() async throws {
        var backup = BackupRecord(
            name: "b", filter: ResourceFilter(), ttlSeconds: nil, storageLocation: "default", cluster: "c")
        backup.volumes = [Self.podVolume("shop", "web", "data", snapshot: "pvb.1")]
        var result = RestoreResult(
            phase: .completed,
            items: [RestoreItemResult(resource: "pods", namespace: "shop", name: "web", outcome: .created)],
            warnings: [], seconds: 0)
        let restoring = PodVolumeRestoring(image: "i", restoreUID: "u") { targets in
            targets.map {
                var restored = $0.source
                restored.podUID = "new"
                return VolumeRestoreResult(
                    podVolume: restored, persistentVolume: "", error: "snapshot 'pvb.1' not found in the store")
            }
        }
        let volumes = try await restoring.run(backup, options: RestoreOptions(), result: &result)
        #expect(volumes.count == 1)
        #expect(result.phase == .partiallyFailed)
        #expect(result.errors == ["pod volume shop/web/data: snapshot 'pvb.1' not found in the store"])
        let record = RestoreRecord(
            name: "r", backup: "b", options: RestoreOptions(), started: Date(), result: result)
        #expect(record.errors == result.errors)
    }
}
