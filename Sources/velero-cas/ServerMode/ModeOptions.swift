import ArgumentParser
import ChunkStore
import Foundation
import KubeClient

/// `--local` and `-n/--namespace`: whether a verb creates and reads Velero objects for a velero-cas server, or runs
/// in this process against the store.
///
/// Through the server when all of these hold: neither `--local` nor `--store` is given (a store path is an
/// in-process notion; the server's locations are BackupStorageLocations), the kubeconfig loads, and the server's
/// presence Lease in the namespace is fresh and the velero.io API is served (see `ServerSession.detect`).
struct ModeOptions: ParsableArguments {
    @Flag(help: "Run in this process against the store even when a velero-cas server runs in the cluster.")
    var local = false
    @Option(
        name: [.customShort("n"), .customLong("namespace")],
        help: "The namespace of the velero-cas server and its objects (default: $VELERO_NAMESPACE, else velero).")
    var namespace: String?

    func validate() throws {
        if let namespace {
            do { try ResourceName.validate(namespace, what: "namespace") } catch {
                throw ValidationError("-n/--namespace '\(namespace)': \(error)")
            }
        }
    }

    /// The namespace given, else `$VELERO_NAMESPACE`, else velero.
    var veleroNamespace: String {
        if let namespace { return namespace }
        let environment = ProcessInfo.processInfo.environment["VELERO_NAMESPACE"] ?? ""
        return environment.isEmpty ? "velero" : environment
    }

    /// The server to work through, or nil to run in process. `store` is the `--store` flag.
    func server(cluster: ClusterOptions, store: String?) async throws -> ServerSession? {
        guard !local, store == nil else { return nil }
        // Without a loadable kubeconfig there is no cluster to look in; the in-process path reports what it needs.
        guard let client = try? await cluster.client() else { return nil }
        return try await ServerSession.detect(client: client, namespace: veleroNamespace)
    }

    /// The error for a flag that only the server can act on, when running in process.
    func needsServer(_ flag: String) -> ValidationError {
        ValidationError(
            "\(flag) needs a velero-cas server (schedules are Schedule objects in the cluster); \(local ? "--local was given" : "none runs in namespace '\(veleroNamespace)'")"
        )
    }

    /// For verbs that exist only through the server.
    func requireServer(cluster: ClusterOptions, what: String) async throws -> ServerSession {
        guard !local else {
            throw ValidationError("'\(what)' needs a velero-cas server; it has no --local form")
        }
        let client = try await cluster.client()
        guard let session = try await ServerSession.detect(client: client, namespace: veleroNamespace) else {
            throw ValidationError(
                "'\(what)' needs a velero-cas server, and none runs in namespace '\(veleroNamespace)' of \(client.configuration.server) (start one with 'velero-cas server --namespace \(veleroNamespace)', or pick the namespace with -n)"
            )
        }
        return session
    }
}
