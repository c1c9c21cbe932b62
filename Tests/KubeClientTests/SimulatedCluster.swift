import HTTPTransport
import KubeClient
import KubeSim

/// A KubeSim server and a KubeClient pointed at it, shut down after the body.
struct SimulatedCluster: Sendable {
    let server: KubeSimServer
    let client: KubeClient

    static func with<T: Sendable>(
        synthetic: SyntheticCluster.Options? = nil, token: String = "admin-token",
        retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50)),
        _ body: (SimulatedCluster) async throws -> T
    ) async throws -> T {
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                credentials: [Credential(token: "admin-token"), Credential(token: "reader-token", role: .readOnly)],
                synthetic: synthetic))
        let client = KubeClient(
            configuration: ClusterConfiguration(server: server.baseURL, credentials: .token(token)), retry: retry)
        do {
            let result = try await body(SimulatedCluster(server: server, client: client))
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    func resource(_ name: String) async throws -> APIResource {
        try await client.discover().first { $0.qualifiedName == name }!
    }
}
