import Foundation
import KubeClient

/// Velero's RestoreItemAction plugin configuration: ConfigMaps in the Velero namespace labelled
/// `velero.io/plugin-config` and `velero.io/<plugin>: RestoreItemAction`.
///
/// - change-storage-class: each data key is a storage class in the backup, its value the class to use instead, for
///   PersistentVolumes, PersistentVolumeClaims and StatefulSets' volumeClaimTemplates. The new class must exist in
///   the target cluster, or the object fails.
/// - change-image-name: each data value is `old,new`; the first entry whose `old` occurs in an image replaces every
///   occurrence of it by `new`, in the containers and init containers of pods and pod templates. Velero tries the
///   entries in Go's random map order; here they are tried in key order, so a restore is repeatable.
public struct PluginConfiguration: Sendable, Equatable {
    public static let storageClassPlugin = "velero.io/change-storage-class"
    public static let imageNamePlugin = "velero.io/change-image-name"

    /// Old class → new class.
    public var storageClasses: [String: String]
    /// The storage classes of the target cluster (mapping to another is an error).
    public var existingStorageClasses: Set<String>
    /// (old, new) substrings, in the order they are tried.
    public var imageNames: [(old: String, new: String)]

    public init(
        storageClasses: [String: String] = [:], existingStorageClasses: Set<String> = [],
        imageNames: [(old: String, new: String)] = []
    ) {
        self.storageClasses = storageClasses
        self.existingStorageClasses = existingStorageClasses
        self.imageNames = imageNames
    }

    public static func == (a: PluginConfiguration, b: PluginConfiguration) -> Bool {
        a.storageClasses == b.storageClasses && a.existingStorageClasses == b.existingStorageClasses
            && a.imageNames.map { [$0.old, $0.new] } == b.imageNames.map { [$0.old, $0.new] }
    }

    /// Velero's rows: entries without a comma, with nothing after it, or with an empty `old` are ignored.
    public static func imageNameRules(_ data: [String: String]) -> [(old: String, new: String)] {
        data.sorted { $0.key < $1.key }.compactMap { _, row in
            guard let comma = row.firstIndex(of: ","), row.index(after: comma) < row.endIndex else { return nil }
            let old = row[..<comma].trimmingCharacters(in: .whitespaces)
            let new = row[row.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            return old.isEmpty ? nil : (old, new)
        }
    }

    /// Reads the plugins' ConfigMaps from `namespace` of the cluster (none: nothing changes).
    public static func load(client: KubeClient, namespace: String, resources: [APIResource]) async throws
        -> PluginConfiguration
    {
        guard let configMaps = resources.first(where: { $0.group.isEmpty && $0.name == "configmaps" }) else {
            return PluginConfiguration()
        }
        func data(_ plugin: String) async throws -> [String: String]? {
            let selector = "velero.io/plugin-config,\(plugin)=RestoreItemAction"
            let page = try await client.list(configMaps, namespace: namespace, labelSelector: selector)
            guard page.items.count <= 1 else {
                throw RestoreError.invalidOption(
                    "more than one ConfigMap in namespace \(namespace) matches \(selector): "
                        + page.items.map(\.name).joined(separator: ", "))
            }
            guard let item = page.items.first else { return nil }
            let object = try JSONSerialization.jsonObject(with: Data(item.json)) as? [String: Any]
            return object?["data"] as? [String: String] ?? [:]
        }
        var configuration = PluginConfiguration()
        if let mapping = try await data(storageClassPlugin), !mapping.isEmpty {
            configuration.storageClasses = mapping
            if let classes = resources.first(where: { $0.group == "storage.k8s.io" && $0.name == "storageclasses" }) {
                try await client.listAll(classes) { configuration.existingStorageClasses.formUnion($0.map(\.name)) }
            }
        }
        if let rows = try await data(imageNamePlugin) { configuration.imageNames = imageNameRules(rows) }
        return configuration
    }

    static let podTemplateOwners: Set<String> = [
        "deployments", "statefulsets", "daemonsets", "replicasets", "replicationcontrollers", "jobs",
    ]

    func apply(_ object: inout [String: Any], resource: APIResource) throws {
        if !storageClasses.isEmpty {
            switch resource.name {
            case "persistentvolumes", "persistentvolumeclaims":
                try ObjectTransform.edit(&object, "spec") { try changeStorageClass(&$0) }
            case "statefulsets":
                try ObjectTransform.edit(&object, "spec") { spec in
                    guard var templates = spec["volumeClaimTemplates"] as? [[String: Any]] else { return }
                    for index in templates.indices {
                        try ObjectTransform.edit(&templates[index], "spec") { try changeStorageClass(&$0) }
                    }
                    spec["volumeClaimTemplates"] = templates
                }
            default: break
            }
        }
        guard !imageNames.isEmpty else { return }
        let podSpecPath: [String]
        switch resource.name {
        case "pods": podSpecPath = ["spec"]
        case "cronjobs": podSpecPath = ["spec", "jobTemplate", "spec", "template", "spec"]
        case let name where Self.podTemplateOwners.contains(name): podSpecPath = ["spec", "template", "spec"]
        default: return
        }
        ObjectTransform.edit(&object, path: podSpecPath[...]) { podSpec in
            for field in ["containers", "initContainers"] {
                guard var containers = podSpec[field] as? [[String: Any]] else { continue }
                for index in containers.indices {
                    if let image = containers[index]["image"] as? String,
                        let rule = imageNames.first(where: {
                            image.contains($0.old)
                        })
                    {
                        containers[index]["image"] = image.replacingOccurrences(of: rule.old, with: rule.new)
                    }
                }
                podSpec[field] = containers
            }
        }
    }

    private func changeStorageClass(_ spec: inout [String: Any]) throws {
        guard let current = spec["storageClassName"] as? String, !current.isEmpty,
            let replacement = storageClasses[current]
        else { return }
        guard existingStorageClasses.contains(replacement) else {
            throw PluginError.missingStorageClass(replacement, mappedFrom: current)
        }
        spec["storageClassName"] = replacement
    }
}

public enum PluginError: Error, CustomStringConvertible, Equatable, Sendable {
    case missingStorageClass(String, mappedFrom: String)

    public var description: String {
        switch self {
        case .missingStorageClass(let name, let old):
            "storage class '\(name)' (the change-storage-class mapping of '\(old)') does not exist in the target cluster"
        }
    }
}

extension ObjectTransform {
    static func edit(_ object: inout [String: Any], path: ArraySlice<String>, _ body: (inout [String: Any]) -> Void) {
        guard let first = path.first else { return body(&object) }
        edit(&object, first) { edit(&$0, path: path.dropFirst(), body) }
    }
}
