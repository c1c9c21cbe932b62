import Foundation
import KubeClient

/// What the demo installs into its cluster before it starts the server: exactly what
/// `velero-cas install --provider local --backup-location-config path=<store> --no-secret` applies — the velero.io
/// CRDs, the namespace, the ServiceAccount and its binding, the Secret with the store's password, the `default`
/// BackupStorageLocation, and the `velero` Deployment. kube-sim keeps the Deployment and runs no pods, so the
/// demo runs `velero-cas server` in this process in its place, with the password that Deployment's pod reads from
/// the Secret (`VELERO_CAS_PASSWORD`).
enum DemoInstall {
    /// Installs and returns the store's password: `$VELERO_CAS_PASSWORD` when set, else a new random one, as
    /// `install` makes it.
    static func install(_ client: KubeClient, namespace: String, storePath: String) async throws -> String {
        let given = ProcessInfo.processInfo.environment["VELERO_CAS_PASSWORD"] ?? ""
        let password = given.isEmpty ? try await InstallValidation.storePassword(nil) : given
        var settings = InstallManifests.Settings(storePassword: password)
        settings.namespace = namespace
        settings.location = try InstallValidation.location(
            provider: "local", bucket: nil, prefix: nil, config: ["path": storePath])
        let objects = try InstallManifests.all(settings)
        var applier = InstallApplier(client: client)
        applier.quiet = true
        try await applier.apply(objects)
        let kinds = Dictionary(grouping: objects) { $0["kind"]?.string ?? "" }.map { "\($0.value.count) \($0.key)" }
        print(
            "installed into namespace '\(namespace)' what 'velero-cas install --provider local --backup-location-config path=\(storePath) --no-secret' makes: \(kinds.sorted().joined(separator: ", "))"
        )
        return password
    }
}
