import HTTPTransport
import KubeSim
import Testing

@Suite("Watch")
struct WatchTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    /// The events of a finished watch response: (type, name, resourceVersion).
    static func events(_ response: HTTPResponse) throws -> [(
        type: String, name: String, version: String, object: JSONValue
    )] {
        try response.text.split(separator: "\n").map { line in
            let event = try JSONValue.parse(String(line))
            let object = event["object"] ?? .null
            return (
                event["type"]?.stringValue ?? "", object["metadata"]?["name"]?.stringValue ?? "",
                object["metadata"]?["resourceVersion"]?.stringValue ?? "", object
            )
        }
    }

    /// Starts a watch that lasts `seconds`, waits until the server has it, runs `changes`, returns the stream.
    static func watch(_ sim: SimHarness, _ query: String, seconds: Int = 20, changes: () async throws -> Void)
        async throws -> HTTPResponse
    {
        let watchersBefore = sim.server.watcherCount
        async let response = sim.request(
            .get, Self.cms + "?watch=1&timeoutSeconds=\(seconds)" + query, timeout: .seconds(seconds + 20))
        // Changes count once the watch is registered (its snapshot taken), not merely once its request arrived.
        while sim.server.watcherCount == watchersBefore { try await Task.sleep(for: .milliseconds(10)) }
        try await changes()
        return try await response
    }

    @Test("a watch sends existing objects as ADDED, then live ADDED, MODIFIED, DELETED, and ends at timeoutSeconds")
    func liveEvents() async throws {
        try await SimHarness.with { sim in
            _ = try await sim.post(Self.cms, Objects.configMap("before"))
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await Self.watch(sim, "") {
                _ = try await sim.post(Self.cms, Objects.configMap("live"))
                _ = try await sim.patch(Self.cms + "/live", ["data": ["k": "changed"]])
                _ = try await sim.delete(Self.cms + "/live")
            }
            let elapsed = clock.now - start
            #expect(response.status == 200)
            #expect(response.header("Transfer-Encoding")?.lowercased() == "chunked")
            let events = try Self.events(response)
            #expect(events.map(\.type) == ["ADDED", "ADDED", "MODIFIED", "DELETED"], "\(response.text)")
            #expect(events.map(\.name) == ["before", "live", "live", "live"])
            // Missing events are reported above; indexing them would crash the whole test process.
            try #require(events.count == 4)
            #expect(events[2].object["data"]?["k"] == "changed")
            #expect(events[1].object["kind"] == "ConfigMap", "watch objects carry their kind")
            let versions = events.dropFirst().compactMap { UInt64($0.version) }
            #expect(versions == versions.sorted() && Set(versions).count == 3, "each event has a newer version")
            // The watch ends at its timeoutSeconds (20), not before and not much after.
            #expect(elapsed >= .seconds(19) && elapsed < .seconds(45), "\(elapsed)")
        }
    }

    @Test("resourceVersion replays kept history; a compacted one gets an ERROR 410 Expired event")
    func resume() async throws {
        try await SimHarness.with { sim in
            let list = try await sim.getJSON(Self.cms)
            let version = try #require(list["metadata"]?["resourceVersion"]?.stringValue)
            _ = try await sim.post(Self.cms, Objects.configMap("a"))
            _ = try await sim.post(Self.cms, Objects.configMap("b"))
            _ = try await sim.delete(Self.cms + "/a")
            let replay = try await sim.request(
                .get, Self.cms + "?watch=true&resourceVersion=\(version)&timeoutSeconds=1")
            let events = try Self.events(replay)
            #expect(events.map(\.type) == ["ADDED", "ADDED", "DELETED"])
            #expect(events.map(\.name) == ["a", "b", "a"])

            sim.server.compact()
            let expired = try await sim.request(.get, Self.cms + "?watch=1&resourceVersion=\(version)&timeoutSeconds=5")
            let error = try #require(try Self.events(expired).first)
            #expect(error.type == "ERROR")
            #expect(error.object["kind"] == "Status")
            #expect(error.object["code"] == 410)
            #expect(error.object["reason"] == "Expired")
            #expect(try Self.events(expired).count == 1)
        }
    }

    @Test("selectors filter events; an object leaving the selection is DELETED, entering it ADDED")
    func selectors() async throws {
        try await SimHarness.with { sim in
            // 45 s: four changes must land within the watch, and a loaded machine once took more than 20 s for them.
            let response = try await Self.watch(sim, "&labelSelector=app%3Dweb", seconds: 45) {
                _ = try await sim.post(Self.cms, Objects.configMap("w", labels: ["app": "web"]))
                _ = try await sim.post(Self.cms, Objects.configMap("d", labels: ["app": "db"]))
                _ = try await sim.patch(Self.cms + "/w", ["metadata": ["labels": ["app": "other"]]])
                _ = try await sim.patch(Self.cms + "/d", ["metadata": ["labels": ["app": "web"]]])
                _ = try await sim.request(
                    .post, "/api/v1/namespaces/kube-system/configmaps",
                    body: Objects.configMap("elsewhere", labels: ["app": "web"]).encoded(),
                    contentType: "application/json")
            }
            let events = try Self.events(response)
            #expect(events.map { "\($0.type) \($0.name)" } == ["ADDED w", "DELETED w", "ADDED d"], "\(response.text)")
        }
    }

    @Test("watches end cleanly when the server shuts down")
    func shutdown() async throws {
        let server = try await KubeSimServer.start()
        let sim = SimHarness(server: server, client: HTTPClient(), token: nil)
        // A watch the shutdown did not end would run until the request's timeout, well beyond the bound below
        // (which leaves room for a loaded machine).
        async let response = sim.request(.get, Self.cms + "?watch=1", timeout: .seconds(90))
        while server.requestCount(verb: "watch") == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let clock = ContinuousClock()
        let start = clock.now
        try await server.shutdown()
        _ = try? await response
        #expect(clock.now - start < .seconds(30), "the open watch must not keep the client waiting")
    }
}
