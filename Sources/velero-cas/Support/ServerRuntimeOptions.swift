import ArgumentParser
import ChunkStore
import Foundation
import VeleroAPI
import VeleroServer

/// `velero-cas server`'s production options: leader election among replicas and the metrics/health endpoints.
struct ServerRuntimeOptions: ParsableArguments {
    @Option(
        name: .customLong("leader-elect"),
        help: ArgumentHelp(
            "Elect one leader among replicas through a coordination.k8s.io Lease (default: true in a pod, false outside).",
            valueName: "bool"))
    var leaderElect: Bool?
    @Option(help: "The Lease's name in the server's namespace.")
    var leaderElectionLeaseName = LeaderElection.defaultLeaseName
    @Option(help: "How long an unrenewed lease keeps other replicas out (Go duration).")
    var leaderElectionLeaseDuration = "15s"
    @Option(help: "How long the leader tries to renew before it stops leading (Go duration).")
    var leaderElectionRenewDeadline = "10s"
    @Option(help: "How often candidates try to take the lease and the leader renews it (Go duration).")
    var leaderElectionRetryPeriod = "2s"
    @Option(
        help: ArgumentHelp(
            "Where /metrics, /healthz and /readyz are served (host:port or :port; empty: nowhere).",
            discussion:
                "In a pod the server fails when it cannot listen there; outside, it warns and runs without them."))
    var metricsAddress = ":8085"

    func validate() throws {
        if !metricsAddress.isEmpty {
            do { _ = try EndpointAddress.parse(metricsAddress) } catch { throw ValidationError("\(error)") }
        }
        try ResourceName.validate(leaderElectionLeaseName, what: "--leader-election-lease-name")
        let problems = try leaderElection(inCluster: true)?.problems() ?? []
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
    }

    /// The election settings, or nil when it is off (`--leader-elect=false`, or unset outside a pod).
    func leaderElection(inCluster: Bool) throws -> LeaderElection? {
        guard leaderElect ?? inCluster else { return nil }
        return LeaderElection(
            leaseName: leaderElectionLeaseName,
            leaseDuration: try Self.duration(leaderElectionLeaseDuration, flag: "--leader-election-lease-duration"),
            renewDeadline: try Self.duration(leaderElectionRenewDeadline, flag: "--leader-election-renew-deadline"),
            retryPeriod: try Self.duration(leaderElectionRetryPeriod, flag: "--leader-election-retry-period"))
    }

    /// Sets the election and the endpoints on a server's configuration.
    func apply(to configuration: inout VeleroServer.Configuration, inCluster: Bool) throws {
        configuration.leaderElection = try leaderElection(inCluster: inCluster)
        configuration.metricsAddress = metricsAddress.isEmpty ? nil : try EndpointAddress.parse(metricsAddress)
        configuration.metricsRequired = inCluster
    }

    private static func duration(_ text: String, flag: String) throws -> Duration {
        guard let seconds = KubeDuration.seconds(text), seconds > 0, seconds <= 86400 else {
            throw ValidationError("\(flag) '\(text)' must be a Go duration between 1ms and 24h, such as 15s or 1m")
        }
        return .milliseconds(Int((seconds * 1000).rounded()))
    }
}
