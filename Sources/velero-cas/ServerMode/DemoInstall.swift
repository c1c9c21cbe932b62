import KubeClient
import VeleroAPI

/// What the demo puts into its cluster before it starts the server: the velero.io CRDs, the server's namespace, and
/// a `default` BackupStorageLocation of provider local at `storePath`. The one place where `velero-cas install`
/// takes over once it exists.
enum DemoInstall {
    static func install(_ client: KubeClient, namespace: String, storePath: String) async throws {
        try await ServerCommand.installCRDs(client)
        let namespaces = APIResource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
        do {
            _ = try await client.create(
                namespaces, namespace: nil,
                json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(namespace)"}}"#.utf8))
        } catch let error as KubeAPIError where error.isAlreadyExists {}
        var location = BackupStorageLocation(
            name: "default", namespace: namespace, spec: .init(provider: "local", config: ["path": storePath]))
        location.spec.default = true
        _ = try await client.create(BackupStorageLocation.resource, namespace: namespace, json: try location.encoded())
    }
}
