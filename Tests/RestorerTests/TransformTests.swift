import BackupModel
import Foundation
import KubeClient
import Testing

@testable import Restorer

@Suite("Restore transforms")
struct TransformTests {
    static func resource(_ group: String, _ name: String, _ kind: String, namespaced: Bool = true) -> APIResource {
        APIResource(group: group, version: "v1", name: name, kind: kind, namespaced: namespaced)
    }

    static func apply(_ json: String, _ resource: APIResource, _ transform: ObjectTransform = ObjectTransform()) throws
        -> [String: Any]?
    {
        guard case .restore(let bytes, _, _) = try transform.apply(Array(json.utf8), resource: resource) else {
            return nil
        }
        return try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    @Test("server-set metadata and status are stripped; the namespace is mapped")
    func metadata() throws {
        let json =
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"old","uid":"u","resourceVersion":"9","generation":2,"creationTimestamp":"t","selfLink":"/x","managedFields":[],"ownerReferences":[{"name":"o"}],"labels":{"k":"v"}},"data":{"x":"y"},"status":{"s":1}}"#
        let out = try #require(
            try Self.apply(
                json, Self.resource("", "configmaps", "ConfigMap"), ObjectTransform(namespaceMappings: ["old": "new"])))
        let metadata = try #require(out["metadata"] as? [String: Any])
        #expect(Set(metadata.keys) == ["name", "namespace", "labels"])
        #expect(metadata["namespace"] as? String == "new")
        #expect(out["status"] == nil)
        #expect((out["data"] as? [String: String]) == ["x": "y"])
        let kept = try #require(
            try Self.apply(
                json, Self.resource("", "configmaps", "ConfigMap"),
                ObjectTransform(statusIncludedResources: ["configmaps"])))
        #expect(kept["status"] != nil)
    }

    @Test("services lose cluster IPs (unless headless) and auto-assigned nodePorts; explicit ones stay")
    func services() throws {
        let applied = #"{\"spec\":{\"ports\":[{\"port\":80,\"nodePort\":30080}]}}"#
        let json =
            #"{"metadata":{"name":"s","namespace":"n","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"\#(applied)"}},"spec":{"clusterIP":"10.0.0.5","clusterIPs":["10.0.0.5"],"ports":[{"port":80,"nodePort":30080},{"port":443,"nodePort":31443}]}}"#
        let services = Self.resource("", "services", "Service")
        let spec = try #require(try Self.apply(json, services)?["spec"] as? [String: Any])
        #expect(spec["clusterIP"] == nil && spec["clusterIPs"] == nil)
        let ports = try #require(spec["ports"] as? [[String: Any]])
        #expect(ports[0]["nodePort"] as? Int == 30080)
        #expect(ports[1]["nodePort"] == nil)
        let preserved = try #require(
            try Self.apply(json, services, ObjectTransform(preserveNodePorts: true))?["spec"] as? [String: Any])
        #expect((preserved["ports"] as? [[String: Any]])?[1]["nodePort"] as? Int == 31443)
        let headless = try #require(
            try Self.apply(#"{"metadata":{"name":"h"},"spec":{"clusterIP":"None"}}"#, services)?["spec"]
                as? [String: Any])
        #expect(headless["clusterIP"] as? String == "None")
    }

    @Test(
        "pods lose nodeName; claims lose bind annotations; PV claimRefs lose uid and follow the mapping; bindings' subjects are mapped"
    )
    func references() throws {
        let pod = try #require(
            try Self.apply(
                #"{"metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[]}}"#, Self.resource("", "pods", "Pod")
            )?["spec"] as? [String: Any])
        #expect(pod["nodeName"] == nil && pod["containers"] != nil)
        let claim = try #require(
            try Self.apply(
                #"{"metadata":{"name":"c","annotations":{"pv.kubernetes.io/bind-completed":"yes","keep":"me"}}}"#,
                Self.resource("", "persistentvolumeclaims", "PersistentVolumeClaim"))?["metadata"] as? [String: Any])
        #expect((claim["annotations"] as? [String: String]) == ["keep": "me"])
        let volume = try #require(
            try Self.apply(
                #"{"metadata":{"name":"v"},"spec":{"claimRef":{"namespace":"old","name":"c","uid":"u","resourceVersion":"1"}}}"#,
                Self.resource("", "persistentvolumes", "PersistentVolume", namespaced: false),
                ObjectTransform(namespaceMappings: ["old": "new"]))?["spec"] as? [String: Any])
        #expect((volume["claimRef"] as? [String: String]) == ["namespace": "new", "name": "c"])
        let binding = try #require(
            try Self.apply(
                #"{"metadata":{"name":"b","namespace":"old"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"old"}]}"#,
                Self.resource("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
                ObjectTransform(namespaceMappings: ["old": "new"])))
        #expect((binding["subjects"] as? [[String: String]])?.first?["namespace"] == "new")
    }

    @Test("nodes, events, completed pods and finished jobs are never restored")
    func skipped() throws {
        let transform = ObjectTransform()
        #expect(
            try transform.apply(
                Array(#"{"metadata":{"name":"n"}}"#.utf8),
                resource: Self.resource("", "nodes", "Node", namespaced: false))
                == .skip(reason: "nodes are never restored"))
        if case .restore = try transform.apply(
            Array(#"{"metadata":{"name":"p"},"status":{"phase":"Succeeded"}}"#.utf8),
            resource: Self.resource("", "pods", "Pod"))
        {
            Issue.record("completed pod restored")
        }
        if case .restore = try transform.apply(
            Array(#"{"metadata":{"name":"j"},"status":{"completionTime":"t"}}"#.utf8),
            resource: Self.resource("batch", "jobs", "Job"))
        {
            Issue.record("completed job restored")
        }
        #expect(throws: TransformError.self) {
            try transform.apply(Array(#"{"spec":{}}"#.utf8), resource: Self.resource("", "pods", "Pod"))
        }
    }

    @Test(
        "namespace mappings parse, and bad ones are refused",
        arguments: [
            ("a:b,c:d", true), ("a:b,a:c", false), ("a:b,c:b", false), ("a", false), ("A:b", false), ("a:b:c", false),
        ])
    func mappings(text: String, valid: Bool) throws {
        if valid {
            #expect(try RestoreOptions.parseNamespaceMappings(text) == ["a": "b", "c": "d"])
        } else {
            #expect(throws: RestoreError.self) { try RestoreOptions.parseNamespaceMappings(text) }
        }
    }

    @Test("restore order: CRDs, namespaces, Velero's priorities, then the rest")
    func order() {
        let names = [
            "deployments.apps", "configmaps", "namespaces", "customresourcedefinitions.apiextensions.k8s.io",
            "widgets.example.com", "persistentvolumes", "pods",
        ]
        let resources = names.map { name -> APIResource in
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            return APIResource(
                group: parts.count > 1 ? parts[1] : "", version: "v1", name: parts[0], kind: parts[0], namespaced: true)
        }
        let tiers = RestoreOrder.tiers(resources).map { $0.map(\.qualifiedName) }
        #expect(
            tiers == [
                ["customresourcedefinitions.apiextensions.k8s.io"], ["namespaces"], ["persistentvolumes"],
                ["configmaps"], ["pods"], ["deployments.apps", "widgets.example.com"],
            ])
    }
}
