import HTTPTransport
import KubeSim
import Testing

@Suite("Injected faults and request counters")
struct FaultTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    @Test("a counted 429 fault answers TooManyRequests with Retry-After, then lets requests through")
    func throttle() async throws {
        try await SimHarness.with { sim in
            sim.server.addFault(.throttle(count: 2, retryAfterSeconds: 7))
            for _ in 0..<2 {
                let response = try await sim.get(Self.cms)
                try response.expectStatus(429, reason: "TooManyRequests")
                #expect(response.header("Retry-After") == "7")
                #expect(try response.json()["details"]?["retryAfterSeconds"] == 7)
            }
            #expect(try await sim.get(Self.cms).status == 200)
            #expect(sim.server.requestCount(verb: "list", pathPrefix: Self.cms) == 3)
            #expect(sim.server.requestCount(verb: "list", status: 429) == 2)
            #expect(sim.server.faults.isEmpty, "exhausted faults are removed")
        }
    }

    @Test("5xx faults limited by path prefix and verb")
    func serverErrors() async throws {
        try await SimHarness.with { sim in
            sim.server.addFault(.error(503, count: 1, pathPrefix: "/apis/apps"))
            sim.server.addFault(.error(500, count: 1, verb: "create"))
            #expect(try await sim.get(Self.cms).status == 200, "other paths are untouched")
            try await sim.get("/apis/apps/v1/deployments").expectStatus(503, reason: "ServiceUnavailable")
            #expect(try await sim.get("/apis/apps/v1/deployments").status == 200)
            #expect(try await sim.get(Self.cms).status == 200, "only create is hit")
            try await sim.post(Self.cms, Objects.configMap("x")).expectStatus(500, reason: "InternalError")
            #expect(try await sim.post(Self.cms, Objects.configMap("x")).status == 201, "the retry succeeds")
            #expect(sim.server.requestCount(verb: "create") == 2)
        }
    }

    @Test("a fractional fault hits about that share of requests")
    func fraction() async throws {
        try await SimHarness.with { sim in
            sim.server.addFault(.error(503, fraction: 0.5, verb: "GET"))
            var failures = 0
            for _ in 0..<60 {
                if try await sim.get("/api/v1/namespaces/default").status == 503 { failures += 1 }
            }
            #expect((15...45).contains(failures), "\(failures) of 60")
            sim.server.clearFaults()
            #expect(try await sim.get("/api/v1/namespaces/default").status == 200)
        }
    }

    @Test("latency delays the answer without blocking other requests")
    func latency() async throws {
        try await SimHarness.with { sim in
            // Bounds far apart, so a loaded CI machine cannot blur them.
            sim.server.addFault(.latency(.seconds(20), pathPrefix: "/api/v1/namespaces/default/configmaps"))
            let clock = ContinuousClock()
            let start = clock.now
            async let slow: (HTTPResponse, ContinuousClock.Instant) = {
                let response = try await sim.get(Self.cms)
                return (response, clock.now)
            }()
            let fast = try await sim.get("/api/v1/namespaces")
            let fastDone = clock.now
            let (slowResponse, slowDone) = try await slow
            #expect(slowResponse.status == 200)
            #expect(fast.status == 200)
            #expect(slowDone - start >= .seconds(20))
            // Not blocked: the other request is answered before the delayed one, however loaded the machine (a fixed
            // bound on its time failed in a full CI run on 2 cores).
            #expect(fastDone < slowDone, "the other request took \(fastDone - start)")
        }
    }

    @Test("faults over HTTP: POST /sim/faults adds, GET shows, DELETE clears")
    func httpEndpoint() async throws {
        try await SimHarness.with { sim in
            let added = try await sim.request(
                .post, "/sim/faults",
                body: Array(#"{"status":429,"count":1,"retryAfterSeconds":3,"verb":"list"}"#.utf8),
                contentType: "application/json")
            #expect(added.status == 201, "\(added.text)")
            #expect(try await sim.getJSON("/sim/faults")["faults"]?.arrayValue?.count == 1)
            #expect(sim.server.faults == [Fault(status: 429, count: 1, retryAfterSeconds: 3, verb: "list")])
            let throttled = try await sim.get(Self.cms)
            #expect(throttled.status == 429)
            #expect(throttled.header("Retry-After") == "3")

            _ = try await sim.request(.post, "/sim/faults", body: Array(#"{"status":503}"#.utf8))
            #expect(try await sim.get(Self.cms).status == 503)
            #expect(try await sim.request(.delete, "/sim/faults").status == 200)
            #expect(try await sim.get(Self.cms).status == 200)
            let bad = try await sim.request(.post, "/sim/faults", body: Array(#"{"sttus":503}"#.utf8))
            try bad.expectStatus(400, reason: "BadRequest")

            sim.server.resetRequestLog()
            _ = try await sim.get(Self.cms)
            _ = try await sim.get("/apis")
            #expect(sim.server.requestCount() == 2, "/sim requests are not counted")
            #expect(sim.server.requestCount(verb: "discovery") == 1)
            #expect(sim.server.requests.last?.path == "/apis")
        }
    }
}
