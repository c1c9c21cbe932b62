import HTTPTransport
import KubeSim
import Testing

/// kube-sim closes idle keep-alive connections (as a real API server does, sooner), never one that is serving a
/// watch, and closes every connection when it stops.
@Suite("Connections: idle timeout and shutdown")
struct ConnectionLifetimeTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("an idle kept-alive connection is closed after the timeout; a quiet watch is not; the client reconnects")
    func idleTimeout() async throws {
        var configuration = KubeSimConfiguration()
        configuration.idleConnectionTimeout = .milliseconds(300)
        try await SimHarness.with(configuration) { sim in
            #expect(try await sim.get(Self.cms).status == 200)
            try await Self.eventually("the idle connection to be closed") { sim.server.connectionCount == 0 }
            // A watch with no events for three times the timeout keeps its connection and still delivers.
            let watchers = sim.server.watcherCount
            let stream = try sim.client.stream(
                HTTPRequest(method: .get, url: sim.baseURL + Self.cms + "?watch=1", timeout: .zero))
            try await Self.eventually("the watch to start") { sim.server.watcherCount > watchers }
            try await Task.sleep(for: .milliseconds(900))
            #expect(sim.server.watcherCount > watchers, "the quiet watch was cut")
            #expect(try await sim.post(Self.cms, Objects.configMap("late")).status == 201)
            var received = ""
            for try await event in stream {
                if case .data(let bytes) = event { received += String(decoding: bytes, as: UTF8.self) }
                if received.contains("\"late\"") { break }
            }
            #expect(received.contains("\"late\""), "\(received)")
            // The client's pooled connection was closed under it: the next request reconnects.
            try await Self.eventually("the idle connection to be closed") { sim.server.connectionCount <= 1 }
            #expect(try await sim.get(Self.cms).status == 200)
        }
    }

    @Test("stopping a server closes its kept-alive connections")
    func shutdownClosesConnections() async throws {
        var configuration = KubeSimConfiguration()
        configuration.idleConnectionTimeout = nil
        let server = try await KubeSimServer.start(configuration)
        let client = HTTPClient()
        for _ in 0..<3 {
            _ = try await client.execute(HTTPRequest(method: .get, url: server.baseURL + Self.cms))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.connectionCount == 1, "one kept-alive connection, not closed while idle")
        try await server.shutdown()
        #expect(server.connectionCount == 0)
        // The client reconnects to the next server.
        let next = try await KubeSimServer.start(configuration)
        #expect(try await client.execute(HTTPRequest(method: .get, url: next.baseURL + Self.cms)).status == 200)
        try await next.shutdown()
    }
}
