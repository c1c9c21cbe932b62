import Foundation
import KubeClient
import SystemIO
import VeleroAPI

/// Keeps the server's presence Lease (`ServerPresence`) fresh while the server runs, so the CLI knows to create
/// Velero objects instead of running in process; deletes it on a graceful stop when this server holds it. Several
/// replicas renew the same Lease (whoever wrote last is its holder): presence means "a server is running", not
/// "this one leads".
struct PresenceHeartbeat: Sendable {
    let client: KubeClient
    let namespace: String
    let holder: String
    let now: @Sendable () -> Date

    init(server: VeleroServer, host: String) {
        client = server.client
        namespace = server.configuration.namespace
        holder = "\(host)-\(getpid())-\(UUID().uuidString.prefix(8))"
        now = server.configuration.now
    }

    /// Renews until cancelled; a failed renewal is retried at the next interval (the Lease outlives three).
    func run() async {
        while !Task.isCancelled {
            try? await renew()
            try? await Task.sleep(for: ServerPresence.renewInterval)
        }
    }

    func renew() async throws {
        let resource = ServerPresence.resource
        do {
            let current = try await client.get(resource, namespace: namespace, name: ServerPresence.leaseName)
            _ = try await client.replace(
                resource, namespace: namespace, name: ServerPresence.leaseName,
                json: try ServerPresence.lease(
                    namespace: namespace, holder: holder, now: now(),
                    resourceVersion: current.metadata.resourceVersion))
        } catch let error as KubeAPIError where error.isNotFound {
            _ = try await client.create(
                resource, namespace: namespace,
                json: try ServerPresence.lease(namespace: namespace, holder: holder, now: now()))
        }
    }

    /// Deletes the Lease if this server wrote it last (another replica's stays).
    func release() async {
        guard
            let current = try? await client.get(
                ServerPresence.resource, namespace: namespace, name: ServerPresence.leaseName),
            ServerPresence.holder(of: current.json) == holder
        else { return }
        try? await client.delete(ServerPresence.resource, namespace: namespace, name: ServerPresence.leaseName)
    }
}
