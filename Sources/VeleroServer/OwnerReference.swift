import Foundation
import VeleroAPI

/// metav1.OwnerReference on an object about to be created (ObjectMeta here does not carry owner references).
enum OwnerReference {
    /// `json` (an object) with `metadata.ownerReferences` naming `owner` as its controller.
    static func adding<K: VeleroKind>(_ owner: K, to json: [UInt8]) throws -> [UInt8] {
        guard var object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            var metadata = object["metadata"] as? [String: Any]
        else { return json }
        metadata["ownerReferences"] = [
            [
                "apiVersion": Velero.apiVersion, "kind": K.kind, "name": owner.metadata.name ?? "",
                "uid": owner.metadata.uid ?? "", "controller": true,
            ] as [String: Any]
        ]
        object["metadata"] = metadata
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

extension VeleroServer {
    /// Creates `object` in the server's namespace with `owner` as its controller; returns the name it was given.
    func createOwned<K: VeleroKind, O: VeleroKind>(_ object: K, owner: O) async throws -> String {
        let json = try OwnerReference.adding(owner, to: try object.encoded())
        return try await client.create(K.resource, namespace: configuration.namespace, json: json).name
    }
}
