import Foundation
import KubeClient

/// What a restore does to each backed-up object before applying it, following Velero's rules: server-set metadata
/// and status are dropped, cluster-assigned addresses and ports are released, bindings to nodes and old UIDs are
/// cut, and namespace mappings are applied to the object and to the references that name a namespace.
public struct ObjectTransform: Sendable {
    public var namespaceMappings: [String: String]
    /// Keep Services' auto-assigned nodePorts.
    public var preserveNodePorts: Bool
    /// Qualified resource names whose `status` is restored ("*" for all).
    public var statusIncludedResources: Set<String>

    public init(
        namespaceMappings: [String: String] = [:], preserveNodePorts: Bool = false,
        statusIncludedResources: Set<String> = []
    ) {
        self.namespaceMappings = namespaceMappings
        self.preserveNodePorts = preserveNodePorts
        self.statusIncludedResources = statusIncludedResources
    }

    public enum Outcome: Sendable, Equatable {
        case restore(json: [UInt8], namespace: String?, name: String)
        case skip(reason: String)
    }

    /// Resources a restore never creates.
    public static let neverRestored: Set<String> = ["nodes", "events", "events.events.k8s.io", "componentstatuses"]

    static let strippedMetadata = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "selfLink", "managedFields", "ownerReferences",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    public func apply(_ bytes: [UInt8], resource: APIResource) throws -> Outcome {
        guard !Self.neverRestored.contains(resource.qualifiedName) else {
            return .skip(reason: "\(resource) are never restored")
        }
        guard var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            var metadata = object["metadata"] as? [String: Any], let originalName = metadata["name"] as? String
        else { throw TransformError.malformed(resource: resource.qualifiedName) }
        if let reason = Self.completedReason(object, resource: resource) { return .skip(reason: reason) }

        for field in Self.strippedMetadata { metadata[field] = nil }
        var namespace = metadata["namespace"] as? String
        if resource.namespaced, let current = namespace {
            namespace = namespaceMappings[current] ?? current
            metadata["namespace"] = namespace
        }
        var name = originalName
        if resource.group.isEmpty && resource.name == "namespaces" {
            name = namespaceMappings[originalName] ?? originalName
            metadata["name"] = name
        }
        if !(statusIncludedResources.contains("*") || statusIncludedResources.contains(resource.qualifiedName)) {
            object["status"] = nil
        }
        switch (resource.group, resource.name) {
        case ("", "services"): releaseServiceAddresses(&object, annotations: metadata["annotations"] as? [String: Any])
        case ("", "pods"): Self.edit(&object, "spec") { $0["nodeName"] = nil }
        case ("", "persistentvolumeclaims"):
            Self.editAnnotations(&metadata) { annotations in
                for key in [
                    "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
                    "volume.kubernetes.io/selected-node",
                ] {
                    annotations[key] = nil
                }
            }
        case ("", "persistentvolumes"):
            Self.edit(&object, "spec") { spec in
                guard var claim = spec["claimRef"] as? [String: Any] else { return }
                claim["uid"] = nil
                claim["resourceVersion"] = nil
                if let claimNamespace = claim["namespace"] as? String {
                    claim["namespace"] = namespaceMappings[claimNamespace] ?? claimNamespace
                }
                spec["claimRef"] = claim
            }
        case ("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings"):
            if var subjects = object["subjects"] as? [[String: Any]] {
                for index in subjects.indices {
                    if let subjectNamespace = subjects[index]["namespace"] as? String {
                        subjects[index]["namespace"] = namespaceMappings[subjectNamespace] ?? subjectNamespace
                    }
                }
                object["subjects"] = subjects
            }
        default: break
        }
        object["metadata"] = metadata
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return .restore(json: Array(json), namespace: resource.namespaced ? namespace : nil, name: name)
    }

    /// Completed pods and jobs are history, not workload; Velero does not restore them either.
    static func completedReason(_ object: [String: Any], resource: APIResource) -> String? {
        let status = object["status"] as? [String: Any]
        if resource.group.isEmpty && resource.name == "pods", let phase = status?["phase"] as? String,
            phase == "Succeeded" || phase == "Failed"
        {
            return "pod has completed (\(phase))"
        }
        if resource.group == "batch" && resource.name == "jobs" {
            if status?["completionTime"] != nil { return "job has completed" }
            let conditions = status?["conditions"] as? [[String: Any]] ?? []
            if conditions.contains(where: {
                ($0["type"] as? String) == "Complete"
                    || ($0["type"] as? String) == "Failed" && ($0["status"] as? String) == "True"
            }) {
                return "job has finished"
            }
        }
        return nil
    }

    /// Services get new cluster IPs; nodePorts are kept only when asked, or when the user set them explicitly
    /// (they appear in kubectl's last-applied configuration).
    func releaseServiceAddresses(_ object: inout [String: Any], annotations: [String: Any]?) {
        Self.edit(&object, "spec") { spec in
            if (spec["clusterIP"] as? String) != "None" {
                spec["clusterIP"] = nil
                spec["clusterIPs"] = nil
            }
            guard !preserveNodePorts else { return }
            let explicit = Self.explicitNodePorts(annotations)
            if var ports = spec["ports"] as? [[String: Any]] {
                for index in ports.indices {
                    if let nodePort = ports[index]["nodePort"] as? Int, !explicit.contains(nodePort) {
                        ports[index]["nodePort"] = nil
                    }
                }
                spec["ports"] = ports
            }
            if let port = spec["healthCheckNodePort"] as? Int, !explicit.contains(port) {
                spec["healthCheckNodePort"] = nil
            }
        }
    }

    static func explicitNodePorts(_ annotations: [String: Any]?) -> Set<Int> {
        guard let text = annotations?["kubectl.kubernetes.io/last-applied-configuration"] as? String,
            let applied = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let spec = applied["spec"] as? [String: Any]
        else { return [] }
        var ports = Set((spec["ports"] as? [[String: Any]] ?? []).compactMap { $0["nodePort"] as? Int })
        if let health = spec["healthCheckNodePort"] as? Int { ports.insert(health) }
        return ports
    }

    static func edit(_ object: inout [String: Any], _ key: String, _ body: (inout [String: Any]) -> Void) {
        guard var nested = object[key] as? [String: Any] else { return }
        body(&nested)
        object[key] = nested
    }

    static func editAnnotations(_ metadata: inout [String: Any], _ body: (inout [String: Any]) -> Void) {
        guard var annotations = metadata["annotations"] as? [String: Any] else { return }
        body(&annotations)
        metadata["annotations"] = annotations.isEmpty ? nil : annotations
    }
}

public enum TransformError: Error, CustomStringConvertible, Sendable {
    case malformed(resource: String)

    public var description: String {
        switch self {
        case .malformed(let resource): "a backed-up \(resource) object is not a JSON object with metadata.name"
        }
    }
}
