import Foundation
import KubeClient
import Logging
import Synchronization

/// Runs leader election (see `LeaderElection`) for one server: waits to take the lease, runs the controllers while
/// it holds it, renews it meanwhile, and releases it when the controllers have stopped.
final class LeaderElector: Sendable {
    /// Where this replica stands, for /readyz and the logs.
    enum Role: Sendable, Equatable {
        /// Trying to take the lease; `reachable` once a read of it succeeded.
        case candidate(reachable: Bool)
        case leading
        case lost
    }

    static let leases = APIResource(
        group: "coordination.k8s.io", version: "v1", name: "leases", singularName: "lease", kind: "Lease",
        namespaced: true)

    let client: KubeClient
    let namespace: String
    let settings: LeaderElection
    let logger: Logger
    private let state = Mutex<Role>(.candidate(reachable: false))
    /// The lease as last read or written, and when (on this process's clock) it was last seen to change.
    private let observed = Mutex<(spec: LeaseSpec, at: ContinuousClock.Instant, version: String?)?>(nil)

    init(client: KubeClient, namespace: String, settings: LeaderElection, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.settings = settings
        self.logger = logger
    }

    var role: Role { state.withLock { $0 } }

    /// Takes the lease (or returns when `stopping` fires first), then runs `body` while leading. Returns when
    /// `body` returns, having released the lease; throws `LeaderElectionError.lost` (after cancelling `body` and
    /// waiting for it) when the lease could not be renewed in time. Cancellation ends it at once, without a
    /// release: a killed process's lease runs out by itself.
    func lead(stopping: StopSignal, _ body: @escaping @Sendable () async -> Void) async throws {
        guard await acquire(stopping: stopping) else { return }
        state.withLock { $0 = .leading }
        logger.info("leading: took lease \(namespace)/\(settings.leaseName) as '\(settings.identity)'")
        let ending = await withTaskGroup(of: Ending.self) { group in
            group.addTask {
                await body()
                return .bodyReturned
            }
            group.addTask { await self.renewUntilLost().map(Ending.lost) ?? .cancelled }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        switch ending {
        case .cancelled: return
        case .lost(let lastError):
            state.withLock { $0 = .lost }
            throw LeaderElectionError.lost(lease: settings.leaseName, identity: settings.identity, lastError: lastError)
        case .bodyReturned:
            if Task.isCancelled { return }
        }
        await release()
        state.withLock { $0 = .candidate(reachable: true) }
    }

    private enum Ending: Sendable {
        case bodyReturned, lost(String), cancelled
    }

    /// Tries every retry period until the lease is ours; false when stopped or cancelled first.
    private func acquire(stopping: StopSignal) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await stopping.wait()
                return false
            }
            group.addTask {
                var reported = false
                while !Task.isCancelled {
                    do {
                        if try await self.tryAcquireOrRenew() { return true }
                        if !reported, let holder = self.observed.withLock({ $0?.spec.holderIdentity }) {
                            self.logger.info("waiting for lease \(self.settings.leaseName), held by '\(holder)'")
                            reported = true
                        }
                    } catch {
                        if Task.isCancelled { return false }
                        self.logger.warning("lease \(self.settings.leaseName): \(error)")
                    }
                    try? await Task.sleep(for: self.jittered(self.settings.retryPeriod))
                }
                return false
            }
            let acquired = await group.next() ?? false
            group.cancelAll()
            return acquired
        }
    }

    /// Renews every retry period; returns (the last error, if any) once a renewal has not succeeded within the
    /// renew deadline, or when cancelled.
    private func renewUntilLost() async -> String? {
        let clock = ContinuousClock()
        var lastRenewal = clock.now
        var lastError: String?
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.retryPeriod)
            if Task.isCancelled { return nil }
            let remaining = settings.renewDeadline - (clock.now - lastRenewal)
            let renewed = await Self.within(remaining) { try await self.tryAcquireOrRenew() }
            switch renewed {
            case .success(true):
                lastRenewal = clock.now
                lastError = nil
            case .success(false): lastError = "the lease is held by '\(observedHolder ?? "?")'"
            case .failure(let error): lastError = "\(error)"
            }
            if clock.now - lastRenewal >= settings.renewDeadline { return lastError ?? "renewal timed out" }
        }
        return nil
    }

    private var observedHolder: String? { observed.withLock { $0?.spec.holderIdentity } }

    /// One attempt: create the lease, or take or renew it when it is ours, free, or expired. False when someone
    /// else holds it, or another writer got there first (409).
    func tryAcquireOrRenew() async throws -> Bool {
        let now = ContinuousClock.now
        let stamp = Self.microTime(Date())
        let current: LeaseObject
        do {
            current = try LeaseObject.decode(
                try await client.get(Self.leases, namespace: namespace, name: settings.leaseName).json)
        } catch let error as KubeAPIError where error.isNotFound {
            markReachable()
            let spec = LeaseSpec(
                holderIdentity: settings.identity, leaseDurationSeconds: leaseSeconds, acquireTime: stamp,
                renewTime: stamp, leaseTransitions: 0)
            return try await write(spec, version: nil, now: now)
        }
        markReachable()
        let spec = current.spec ?? LeaseSpec()
        let seenAt = observed.withLock { seen -> ContinuousClock.Instant in
            if let seen, seen.spec == spec { return seen.at }
            seen = (spec, now, current.metadata.resourceVersion)
            return now
        }
        let holder = spec.holderIdentity ?? ""
        let duration = Duration.seconds(spec.leaseDurationSeconds ?? 0)
        if !holder.isEmpty, holder != settings.identity, now < seenAt + duration { return false }
        var next = spec
        if holder != settings.identity {
            next.acquireTime = stamp
            next.leaseTransitions = (spec.leaseTransitions ?? 0) + (holder.isEmpty && spec.acquireTime == nil ? 0 : 1)
        }
        next.holderIdentity = settings.identity
        next.leaseDurationSeconds = leaseSeconds
        next.renewTime = stamp
        return try await write(next, version: current.metadata.resourceVersion, now: now)
    }

    /// Gives the lease up (no holder, one second), as client-go's ReleaseOnCancel does, so a standby replica takes
    /// over at its next try rather than after the lease duration. Reads the lease first: a renewal cancelled as the
    /// controllers stopped may have been written without this process seeing its new resourceVersion, and a release
    /// guarded by the old one would be refused (409) and leave the lease held. Tries again after a conflict.
    private func release() async {
        for _ in 0..<3 {
            do {
                let current = try LeaseObject.decode(
                    try await client.get(Self.leases, namespace: namespace, name: settings.leaseName).json)
                guard var spec = current.spec, spec.holderIdentity == settings.identity else { return }
                spec.holderIdentity = ""
                spec.leaseDurationSeconds = 1
                spec.renewTime = Self.microTime(Date())
                if try await write(spec, version: current.metadata.resourceVersion, now: .now) {
                    logger.info("released lease \(namespace)/\(settings.leaseName)")
                    return
                }
            } catch {
                logger.warning("could not release lease \(settings.leaseName): \(error); it expires by itself")
                return
            }
        }
        logger.warning("could not release lease \(settings.leaseName): it kept changing; it expires by itself")
    }

    /// Creates (no version) or replaces the lease, guarded by the resourceVersion read; false on 409.
    private func write(_ spec: LeaseSpec, version: String?, now: ContinuousClock.Instant) async throws -> Bool {
        let object = LeaseObject(
            metadata: .init(name: settings.leaseName, namespace: namespace, resourceVersion: version), spec: spec)
        let written: KubeObject
        do {
            if version == nil {
                written = try await client.create(Self.leases, namespace: namespace, json: try object.encoded())
            } else {
                written = try await client.replace(
                    Self.leases, namespace: namespace, name: settings.leaseName, json: try object.encoded())
            }
        } catch let error as KubeAPIError where error.code == 409 {
            return false
        }
        observed.withLock { $0 = (spec, now, written.metadata.resourceVersion) }
        return true
    }

    private func markReachable() {
        state.withLock { role in if case .candidate = role { role = .candidate(reachable: true) } }
    }

    private var leaseSeconds: Int { max(1, Int(settings.leaseDuration.components.seconds)) }

    /// Up to 1.2 times `period`, as client-go jitters its retries, so candidates do not move in step.
    private func jittered(_ period: Duration) -> Duration { period * Double.random(in: 1.0...1.2) }

    /// `body`'s result, or a timeout failure once `limit` has passed.
    private static func within(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Bool) async
        -> Result<Bool, any Error>
    {
        guard limit > .zero else { return .failure(RenewTimeout()) }
        return await withTaskGroup(of: Result<Bool, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return Task.isCancelled ? nil : .failure(RenewTimeout())
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(RenewTimeout())
        }
    }

    struct RenewTimeout: Error, CustomStringConvertible {
        var description: String { "the renewal did not finish within the renew deadline" }
    }

    /// Kubernetes MicroTime: RFC 3339 with exactly six fractional digits, UTC.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let micros = min(999_999, Int((date.timeIntervalSince1970 - seconds) * 1_000_000))
        let whole = formatter.string(from: Date(timeIntervalSince1970: seconds)).dropLast()  // "…:05Z" → "…:05"
        return whole + String(format: ".%06dZ", micros)
    }
}

/// A Lease's spec (coordination.k8s.io/v1), as leader election reads and writes it.
struct LeaseSpec: Codable, Sendable, Equatable {
    var holderIdentity: String?
    var leaseDurationSeconds: Int?
    var acquireTime: String?
    var renewTime: String?
    var leaseTransitions: Int?
}

/// A whole Lease object; written whole with PUT, so it carries the resourceVersion it was read at.
struct LeaseObject: Codable, Sendable {
    struct Metadata: Codable, Sendable {
        var name: String
        var namespace: String
        var resourceVersion: String?
    }
    var apiVersion = "coordination.k8s.io/v1"
    var kind = "Lease"
    var metadata: Metadata
    var spec: LeaseSpec?

    static func decode(_ json: [UInt8]) throws -> LeaseObject { try JSONDecoder().decode(Self.self, from: Data(json)) }
    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }
}
