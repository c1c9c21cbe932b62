import BackupModel
import ChunkStore
import Foundation
import KubeClient

/// What a restore does to each backed-up object before applying it, following Velero's rules: server-set metadata
/// and status are dropped, cluster-assigned addresses and ports are released, bindings to nodes, old UIDs and
/// service-account tokens are cut, the user's plugin configuration (storage-class and image-name mappings) and
/// resource modifiers are applied, namespace mappings are applied to the object and to the references that name a
/// namespace, and the object is labelled with the backup and restore it came from.
///
/// The order is Velero's: metadata and status reset, the built-in restore item actions, resource modifiers (which
/// match on the namespace the object had in the backup), the namespace mapping, then the restore labels.
public struct ObjectTransform: Sendable {
    public var namespaceMappings: [String: String]
    /// Keep Services' auto-assigned nodePorts.
    public var preserveNodePorts: Bool
    /// Resource names whose `status` is restored ("*" for all), as `--status-include-resources` takes them.
    public var statusIncludedResources: Set<String>
    /// Resource names whose `status` is not restored even when included (`--status-exclude-resources`).
    public var statusExcludedResources: Set<String>
    /// Labels put on every restored object: `velero.io/backup-name` and `velero.io/restore-name` (empty: none).
    public var restoreLabels: [String: String]
    /// "namespace/name" of the service accounts the target cluster has, for Velero's secret rule: a token secret
    /// named `<service account>-token-…` is recreated by the cluster and is not restored.
    public var serviceAccounts: Set<String>
    /// Velero's change-storage-class and change-image-name plugin configuration.
    public var plugins: PluginConfiguration
    /// `--resource-modifier-configmap` rules.
    public var modifiers: ResourceModifiers?
    /// Restore hooks: pods get their hook init containers.
    public var restoreHooks: RestoreHookRules?
    /// The `restore-wait` init container for pods with pod volume data (restores run by the server).
    public var restoreWait: RestoreWaitContainer?

    public init(
        namespaceMappings: [String: String] = [:], preserveNodePorts: Bool = false,
        statusIncludedResources: Set<String> = [], statusExcludedResources: Set<String> = [],
        restoreLabels: [String: String] = [:], serviceAccounts: Set<String> = [],
        plugins: PluginConfiguration = PluginConfiguration(), modifiers: ResourceModifiers? = nil
    ) {
        self.namespaceMappings = namespaceMappings
        self.preserveNodePorts = preserveNodePorts
        self.statusIncludedResources = statusIncludedResources
        self.statusExcludedResources = statusExcludedResources
        self.restoreLabels = restoreLabels
        self.serviceAccounts = serviceAccounts
        self.plugins = plugins
        self.modifiers = modifiers
    }

    public enum Outcome: Sendable, Equatable {
        case restore(json: [UInt8], namespace: String?, name: String)
        case skip(reason: String)
    }

    /// Resources a restore never creates: Velero's `nonRestorableResources` (cluster plumbing, and Velero's own
    /// records, which are synced from the object store rather than restored), plus `componentstatuses`, which the
    /// API serves read-only.
    public static let neverRestored: Set<String> = [
        "nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io",
        "resticrepositories.velero.io", "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io",
        "backuprepositories.velero.io", "componentstatuses",
    ]

    /// Metadata the source cluster set and the target must set afresh (Velero's resetMetadata, plus managedFields).
    static let strippedMetadata = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "selfLink", "managedFields", "ownerReferences",
        "deletionTimestamp", "deletionGracePeriodSeconds", "generateName",
    ]

    public func apply(_ bytes: [UInt8], resource: APIResource) throws -> Outcome {
        guard !Self.neverRestored.contains(resource.qualifiedName) else {
            return .skip(reason: "\(resource) are never restored")
        }
        guard var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            var metadata = object["metadata"] as? [String: Any], metadata["name"] is String
        else { throw TransformError.malformed(resource: resource.qualifiedName) }
        if let reason = Self.completedReason(object, resource: resource) { return .skip(reason: reason) }

        for field in Self.strippedMetadata { metadata[field] = nil }
        object["metadata"] = metadata
        if !restoresStatus(resource) { object["status"] = nil }
        if let reason = try applyActions(&object, resource: resource) { return .skip(reason: reason) }
        try plugins.apply(&object, resource: resource)
        if let modifiers {
            try modifiers.apply(to: &object, resource: resource)
            guard object["metadata"] is [String: Any] else { throw TransformError.malformed(resource: "\(resource)") }
        }

        metadata = object["metadata"] as? [String: Any] ?? [:]
        var namespace = metadata["namespace"] as? String
        if resource.namespaced, let current = namespace {
            namespace = namespaceMappings[current] ?? current
            metadata["namespace"] = namespace
        }
        var name = metadata["name"] as? String ?? ""
        if resource.group.isEmpty && resource.name == "namespaces" {
            name = namespaceMappings[name] ?? name
            metadata["name"] = name
        }
        if !restoreLabels.isEmpty {
            var labels = metadata["labels"] as? [String: Any] ?? [:]
            labels.merge(restoreLabels) { $1 }
            metadata["labels"] = labels
        }
        object["metadata"] = metadata
        if let restoreHooks, resource.group.isEmpty, resource.name == "pods", let namespace {
            try restoreHooks.addInitContainers(to: &object, namespace: namespace)
        }
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return .restore(json: Array(json), namespace: resource.namespaced ? namespace : nil, name: name)
    }

    /// Velero's rule: status is restored for included resources ("*" for all) that are not excluded.
    func restoresStatus(_ resource: APIResource) -> Bool {
        func listed(_ names: Set<String>) -> Bool { names.contains { $0 == "*" || resource.matches($0) } }
        return listed(statusIncludedResources) && !listed(statusExcludedResources)
    }

    /// Velero's built-in restore item actions. Returns a reason when the object is not to be restored.
    func applyActions(_ object: inout [String: Any], resource: APIResource) throws -> String? {
        switch (resource.group, resource.name) {
        case ("", "services"):
            let annotations = (object["metadata"] as? [String: Any])?["annotations"] as? [String: Any]
            releaseServiceAddresses(&object, annotations: annotations)
        case ("", "pods"):
            Self.edit(&object, "spec") { Self.cutPodFromNode(&$0) }
            restoreWait?.apply(to: &object)
        case ("", "persistentvolumeclaims"):
            Self.edit(&object, "metadata") { metadata in
                Self.editAnnotations(&metadata) { annotations in
                    for key in [
                        "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
                        "volume.kubernetes.io/selected-node",
                    ] {
                        annotations[key] = nil
                    }
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
        case ("batch", "jobs"): Self.edit(&object, "spec") { Self.forgetJobController(&$0) }
        case ("", "serviceaccounts"): Self.dropTokenSecrets(&object)
        case ("", "secrets"): return serviceAccountTokenRule(&object)
        default: break
        }
        return nil
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

    /// Velero's pod action: the pod is scheduled afresh (no nodeName), its priority comes again from its
    /// priorityClassName (the admission plugin refuses a priority that disagrees), and the volumes holding the old
    /// cluster's service-account token (`<serviceAccountName>-token-…`) are dropped with their mounts.
    ///
    /// Beyond Velero: the projected `kube-api-access-…` token volumes the ServiceAccount admission plugin injects are
    /// dropped too, so the target cluster injects its own instead of the pod carrying the source's volume name.
    static func cutPodFromNode(_ spec: inout [String: Any]) {
        spec["nodeName"] = nil
        spec["priority"] = nil
        let account = spec["serviceAccountName"] as? String ?? ""
        var dropped = Set<String>()
        if let volumes = spec["volumes"] as? [[String: Any]] {
            let kept = volumes.filter { volume in
                let name = volume["name"] as? String ?? ""
                let legacyToken = name.hasPrefix(account + "-token-")
                let projectedToken =
                    name.hasPrefix("kube-api-access-")
                    && ((volume["projected"] as? [String: Any])?["sources"] as? [[String: Any]] ?? []).contains {
                        $0["serviceAccountToken"] != nil
                    }
                if legacyToken || projectedToken { dropped.insert(name) }
                return !(legacyToken || projectedToken)
            }
            spec["volumes"] = kept.isEmpty ? nil : kept
        }
        guard !dropped.isEmpty else { return }
        for field in ["containers", "initContainers"] {
            guard var containers = spec[field] as? [[String: Any]] else { continue }
            for index in containers.indices {
                guard let mounts = containers[index]["volumeMounts"] as? [[String: Any]] else { continue }
                let kept = mounts.filter { !dropped.contains($0["name"] as? String ?? "") }
                containers[index]["volumeMounts"] = kept.isEmpty ? nil : kept
            }
            spec[field] = containers
        }
    }

    /// Velero's job action: the old Job's uid is no part of the new one's selector or pod labels.
    static func forgetJobController(_ spec: inout [String: Any]) {
        let labels = ["controller-uid", "batch.kubernetes.io/controller-uid"]
        edit(&spec, "selector") { selector in
            edit(&selector, "matchLabels") { matchLabels in for label in labels { matchLabels[label] = nil } }
        }
        edit(&spec, "template") { template in
            edit(&template, "metadata") { metadata in
                edit(&metadata, "labels") { podLabels in for label in labels { podLabels[label] = nil } }
            }
        }
    }

    /// Velero's service account action: the reference to the account's auto-created token secret is dropped (the
    /// target cluster makes its own).
    static func dropTokenSecrets(_ object: inout [String: Any]) {
        guard let name = (object["metadata"] as? [String: Any])?["name"] as? String,
            let secrets = object["secrets"] as? [[String: Any]]
        else { return }
        let kept = secrets.filter { !(($0["name"] as? String)?.hasPrefix(name + "-token-") ?? false) }
        object["secrets"] = kept.isEmpty ? nil : kept
    }

    /// Velero's secret action for `kubernetes.io/service-account-token` secrets: one named after a service account
    /// of its namespace (`<account>-token-…`) was made by the cluster and is not restored; any other loses the old
    /// token, CA and account uid, which the target cluster fills in afresh.
    func serviceAccountTokenRule(_ object: inout [String: Any]) -> String? {
        guard object["type"] as? String == "kubernetes.io/service-account-token",
            var metadata = object["metadata"] as? [String: Any], let name = metadata["name"] as? String
        else { return nil }
        let namespace = metadata["namespace"] as? String ?? ""
        let target = namespaceMappings[namespace] ?? namespace
        let owner = serviceAccounts.first { key in
            key.hasPrefix(target + "/") && name.hasPrefix(key.dropFirst(target.count + 1) + "-token-")
        }
        if let owner { return "token secret of service account \(owner) is recreated by the cluster" }
        Self.editAnnotations(&metadata) { $0["kubernetes.io/service-account.uid"] = nil }
        object["metadata"] = metadata
        Self.edit(&object, "data") { data in
            data["token"] = nil
            data["ca.crt"] = nil
        }
        return nil
    }

    static func edit(_ object: inout [String: Any], _ key: String, _ body: (inout [String: Any]) throws -> Void)
        rethrows
    {
        guard var nested = object[key] as? [String: Any] else { return }
        try body(&nested)
        object[key] = nested
    }

    static func editAnnotations(_ metadata: inout [String: Any], _ body: (inout [String: Any]) -> Void) {
        guard var annotations = metadata["annotations"] as? [String: Any] else { return }
        body(&annotations)
        metadata["annotations"] = annotations.isEmpty ? nil : annotations
    }
}

/// The labels Velero puts on every object a restore creates.
public enum RestoreLabels {
    public static let backupName = "velero.io/backup-name"
    public static let restoreName = "velero.io/restore-name"

    public static func labels(backup: String, restore: String) -> [String: String] {
        [backupName: validValue(backup), restoreName: validValue(restore)]
    }

    /// Velero's label.GetValidName: a name longer than a label value may be (63) keeps its first 57 characters
    /// and gets the first 6 hex digits of its SHA-256.
    public static func validValue(_ name: String) -> String {
        let bytes = Array(name.utf8)
        guard bytes.count > 63 else { return name }
        let hash = Digest.sha256(bytes).prefix(3).map { String(format: "%02x", $0) }.joined()
        return String(decoding: bytes.prefix(57), as: UTF8.self) + hash
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
