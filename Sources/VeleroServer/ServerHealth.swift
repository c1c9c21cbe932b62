import Synchronization

/// What `/healthz` and `/readyz` report.
///
/// - Live (`/healthz` 200) while the process serves, unless it has lost leadership (it is then stopping, to start
///   again as a candidate).
/// - Ready (`/readyz` 200): without leader election, once every controller has listed its objects. With leader
///   election, the leader once every controller has listed its objects; a standby replica once it has read the
///   lease (it reaches the API server and is ready to take over). Readiness never depends on holding the lease,
///   so a rollout's new pods become ready while the old one still leads.
final class ServerHealth: Sendable {
    private struct State {
        var expected: [String] = []
        var listed: Set<String> = []
    }
    private let state = Mutex(State())

    /// The controllers (by kind) whose first LIST readiness waits for.
    func expect(_ kinds: [String]) {
        state.withLock { state in
            state.expected = kinds
            state.listed = []
        }
    }

    func listed(_ kind: String) { state.withLock { _ = $0.listed.insert(kind) } }

    /// The controllers that have not listed yet; nil before any controller started.
    var waitingFor: [String]? {
        state.withLock { state in
            state.expected.isEmpty ? nil : state.expected.filter { !state.listed.contains($0) }
        }
    }
}

extension VeleroServer {
    /// (ready, why) as `/readyz` reports it.
    func readiness() -> (ready: Bool, reason: String) {
        if let elector {
            switch elector.role {
            case .candidate(reachable: false):
                return (false, "candidate: the leader election lease has not been read yet")
            case .candidate(reachable: true):
                return (true, "standby: another replica holds the lease; this one takes over when it lapses")
            case .lost: return (false, "leadership lost: stopping")
            case .leading: break
            }
        }
        guard let waiting = health.waitingFor else { return (false, "the controllers have not started") }
        guard waiting.isEmpty else {
            return (false, "waiting for the first list of: \(waiting.joined(separator: ", "))")
        }
        return (true, elector == nil ? "ready" : "leading; every controller has listed its objects")
    }

    /// (live, why) as `/healthz` reports it.
    func liveness() -> (live: Bool, reason: String) {
        if elector?.role == .lost { return (false, "leadership lost: the process is stopping") }
        return (true, "ok")
    }
}
