import HTTPTransport
import KubeSim
import Testing

@Suite("A server of finite capacity: seats, a queue, a cost per request, 429 beyond")
struct CapacityTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    /// Sends `count` GETs at once; returns their statuses and the Retry-After headers of the 429s.
    static func burst(_ sim: SimHarness, count: Int) async throws -> (statuses: [Int], retryAfter: [String?]) {
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<count {
                group.addTask {
                    let response = try await sim.get(Self.cms)
                    return (response.status, response.status == 429 ? response.header("Retry-After") : nil)
                }
            }
            var statuses: [Int] = []
            var retryAfter: [String?] = []
            for try await (status, header) in group {
                statuses.append(status)
                if status == 429 { retryAfter.append(header) }
            }
            return (statuses, retryAfter)
        }
    }

    @Test("with a queue, every request is served, never more than the seats at once: 6 requests, 2 seats, 100 ms each")
    func queued() async throws {
        let capacity = Capacity(maxInFlight: 2, queueLength: 10, cost: .milliseconds(100))
        try await SimHarness.with(KubeSimConfiguration(capacity: capacity)) { sim in
            let started = ContinuousClock.now
            let (statuses, _) = try await Self.burst(sim, count: 6)
            let elapsed = ContinuousClock.now - started
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            // Three rounds of two seats: the server cannot be faster than 300 ms.
            #expect(elapsed >= .milliseconds(300), "served \(elapsed)")
        }
    }

    @Test("without room in the queue, the excess is rejected at once with 429 TooManyRequests and Retry-After")
    func saturated() async throws {
        let capacity = Capacity(maxInFlight: 2, queueLength: 1, cost: .milliseconds(300), retryAfterSeconds: 3)
        try await SimHarness.with(KubeSimConfiguration(capacity: capacity)) { sim in
            let (statuses, retryAfter) = try await Self.burst(sim, count: 8)
            #expect(statuses.count { $0 == 200 } == 3, "two seats and one queued place: \(statuses)")
            #expect(statuses.count { $0 == 429 } == 5)
            #expect(retryAfter.allSatisfy { $0 == "3" })
            #expect(sim.server.requestCount(verb: "list", status: 429) == 5)
            #expect(try await Self.burst(sim, count: 1).statuses == [200], "a later request is served")
        }
    }

    @Test("watches do not take seats")
    func watchesAreExempt() async throws {
        let capacity = Capacity(maxInFlight: 1, queueLength: 0, cost: .milliseconds(50))
        try await SimHarness.with(KubeSimConfiguration(capacity: capacity)) { sim in
            let watch = Task { try await sim.request(.get, Self.cms + "?watch=true&timeoutSeconds=2") }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await sim.get(Self.cms).status == 200, "the open watch holds no seat")
            _ = try await watch.value
        }
    }
}
