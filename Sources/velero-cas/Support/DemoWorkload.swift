import ArgumentParser
import Foundation
import KubeClient
import Restorer

/// The demo's own namespace: configuration, a secret, a deployment, a service, a custom resource, and a hostPath
/// persistent volume with its claim.
struct DemoWorkload {
    let client: KubeClient

    func create(volumePath: String) async throws -> DemoWorkload {
        let resources = try await client.discover()
        func resource(_ name: String) throws -> APIResource {
            guard let found = resources.first(where: { $0.qualifiedName == name }) else {
                throw ValidationError("demo cluster lacks \(name)")
            }
            return found
        }
        let objects: [(String, String?, String)] = [
            (
                "namespaces", nil,
                #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","labels":{"team":"retail"}}}"#
            ),
            (
                "persistentvolumes", nil,
                #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"shop-data"},"spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"\#(volumePath)"},"claimRef":{"namespace":"shop","name":"data"}}}"#
            ),
            (
                "persistentvolumeclaims", "shop",
                #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"},"spec":{"volumeName":"shop-data","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"10Gi"}}}}"#
            ),
            (
                "configmaps", "shop",
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","labels":{"app":"shop"}},"data":{"currency":"EUR","tax":"0.19"}}"#
            ),
            (
                "secrets", "shop",
                #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db-password"},"type":"Opaque","data":{"password":"c2VjcmV0"}}"#
            ),
            ("serviceaccounts", "shop", #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"shop"}}"#),
            (
                "services", "shop",
                #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"clusterIP":"10.96.0.42","ports":[{"port":80,"targetPort":8080}],"selector":{"app":"shop"}}}"#
            ),
            (
                "deployments.apps", "shop",
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"shop"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"shop"}},"template":{"metadata":{"labels":{"app":"shop"}},"spec":{"containers":[{"name":"web","image":"shop:1.4","volumeMounts":[{"name":"data","mountPath":"/data"}]}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}]}}}}"#
            ),
            (
                "widgets.example.com", "shop",
                #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"storefront"},"spec":{"size":"large"}}"#
            ),
        ]
        for (name, namespace, json) in objects {
            try await client.create(try resource(name), namespace: namespace, json: Array(json.utf8))
        }
        return self
    }

    /// Every object in 'shop' (and the namespace itself), put through the restore transform so server-set fields
    /// do not count: what a correct restore must reproduce.
    func snapshot() async throws -> [String: String] {
        var result: [String: String] = [:]
        let transform = ObjectTransform()
        for resource in try await client.discover() where resource.namespaced && resource.isListable {
            try await client.listAll(resource, namespace: "shop") { page in
                for object in page {
                    guard case .restore(let json, _, _) = try transform.apply(object.json, resource: resource) else {
                        continue
                    }
                    result["\(resource.qualifiedName)/\(object.name)"] = try Self.withoutRestoreLabels(json)
                }
            }
        }
        return result
    }

    /// The object without the labels a restore through the server adds (Velero's `velero.io/backup-name` and
    /// `velero.io/restore-name`), keys sorted, so objects restored either way compare equal to the originals.
    static func withoutRestoreLabels(_ json: [UInt8]) throws -> String {
        guard var object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
            return String(decoding: json, as: UTF8.self)
        }
        if var metadata = object["metadata"] as? [String: Any], var labels = metadata["labels"] as? [String: Any] {
            labels[RestoreLabels.backupName] = nil
            labels[RestoreLabels.restoreName] = nil
            metadata["labels"] = labels.isEmpty ? nil : labels
            object["metadata"] = metadata
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    func deleteNamespace() async throws {
        let namespaces = try await client.discover().first { $0.group.isEmpty && $0.name == "namespaces" }!
        try await client.delete(namespaces, namespace: nil, name: "shop")
    }

    /// A small change between backups.
    func touch() async throws {
        let configmaps = try await client.discover().first { $0.group.isEmpty && $0.name == "configmaps" }!
        try await client.mergePatch(
            configmaps, namespace: "shop", name: "settings", patch: Array(#"{"data":{"tax":"0.21"}}"#.utf8))
    }
}
