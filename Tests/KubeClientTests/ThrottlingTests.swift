import Foundation
import HTTPTransport
import KubeSim
import Synchronization
import Testing

@testable import KubeClient

@Suite("Client throttling: no fixed rate by default, in-flight requests adapt to the server's pushback")
struct ThrottlingTests {
    @Test("the in-flight limit halves when the server pushes back, at most once per cooldown, and grows back")
    func additiveIncreaseMultiplicativeDecrease() async throws {
        let limiter = AdaptiveConcurrency(initial: 16, maximum: 32, cooldown: .seconds(60))
        #expect(limiter.current.limit == 16)
        try await limiter.acquire()
        limiter.release(overloaded: true)
        #expect(limiter.current == (limit: 8, decreases: 1))
        try await limiter.acquire()
        limiter.release(overloaded: true)
        #expect(limiter.current.limit == 8, "a second 429 within the cooldown is the same congestion event")
        for _ in 0..<(8 + 9) {
            try await limiter.acquire()
            limiter.release(overloaded: false)
        }
        // 8 + Σ 1/limit over 17 answers ≈ 9.9: about one more slot per limit's worth of answers.
        #expect(limiter.current.limit == 9)
        for _ in 0..<2000 {
            try await limiter.acquire()
            limiter.release(overloaded: false)
        }
        #expect(limiter.current.limit == 32, "never beyond the maximum")
    }

    @Test("requests beyond the limit wait, and a waiting request can be cancelled")
    func waitingAndCancellation() async throws {
        let limiter = AdaptiveConcurrency(initial: 1, maximum: 1)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        let second = Task { try await limiter.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        limiter.release(overloaded: false)
        try await second.value  // got the slot the first one held
        limiter.release(overloaded: false)
    }

    @Test("by default there is no fixed rate; --client-qps makes one")
    func noFixedRateByDefault() async throws {
        let server = try await KubeSimServer.start(KubeSimConfiguration())
        let configuration = ClusterConfiguration(server: server.baseURL)
        #expect(KubeClient(configuration: configuration).limiter.qps <= 0, "no token bucket unless asked for")
        // A fixed rate is still a choice: 50/s with a burst of 1 spaces 11 requests over at least 0.2 s.
        let capped = KubeClient(configuration: configuration, qps: 50, burst: 1)
        let started = ContinuousClock.now
        for _ in 0..<11 { _ = try await capped.send(.get, "/api/v1/namespaces") }
        #expect(ContinuousClock.now - started >= .milliseconds(190))
        try await server.shutdown()
    }

    @Test("a saturated server's 429s lower the in-flight limit and every write still lands, once")
    func backsOffUnderPushback() async throws {
        let capacity = Capacity(maxInFlight: 3, queueLength: 0, cost: .milliseconds(20), retryAfterSeconds: 1)
        let server = try await KubeSimServer.start(KubeSimConfiguration(capacity: capacity))
        let client = KubeClient(configuration: ClusterConfiguration(server: server.baseURL))
        do {
            let configmaps = try #require(try await client.discover().first { $0.qualifiedName == "configmaps" })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let json = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-\#(index)"}}"#
                        try await client.create(configmaps, namespace: "default", json: Array(json.utf8))
                    }
                }
                try await group.waitForAll()
            }
            var names: [String] = []
            try await client.listAll(configmaps) { names += $0.filter { $0.namespace == "default" }.map(\.name) }
            #expect(Set(names).count == 60 && names.count == 60, "every create landed once")
            #expect(server.requestCount(verb: "create", status: 429) > 0, "the server pushed back")
            #expect(client.concurrencyLimit.decreases > 0, "and the client lowered its in-flight limit")
            try await server.shutdown()
        } catch {
            try? await server.shutdown()
            throw error
        }
    }
}
