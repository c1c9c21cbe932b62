import Foundation

/// How replicas of the server elect the one that runs the controllers, through a coordination.k8s.io/v1 Lease in
/// the server's namespace (client-go's leaselock protocol, which Velero itself does not use: two Velero servers
/// both process every backup).
///
/// A candidate takes the lease when it is absent, released (no holder), or has not been renewed for its
/// `leaseDurationSeconds` as measured on the candidate's own clock since it last saw the lease change (never on the
/// holder's timestamps, so clock skew between nodes cannot hand the lease out early). Every write names the
/// resourceVersion it read: of two candidates, one wins and the other gets 409 Conflict and reads again. The
/// leader renews every `retryPeriod`; when it has not managed to for `renewDeadline`, it stops its controllers
/// (cancelling running work, which the next leader marks Failed) before anyone else can take the lease, which
/// needs the full `leaseDuration` without renewal.
public struct LeaderElection: Sendable {
    /// The Lease's name in the server's namespace.
    public var leaseName: String
    /// This replica's name in `spec.holderIdentity`: the pod name, or host and pid outside a cluster.
    public var identity: String
    /// How long a lease that is not renewed keeps others out.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leading.
    public var renewDeadline: Duration
    /// How often candidates try to take the lease, and the leader renews it.
    public var retryPeriod: Duration

    public static let defaultLeaseName = "velero-cas-leader"

    public init(
        leaseName: String = LeaderElection.defaultLeaseName, identity: String = LeaderElection.defaultIdentity(),
        leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// `POD_NAME` (set by the installed Deployment from the pod's name), else `<host>_<pid>`.
    public static func defaultIdentity(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        if let pod = environment["POD_NAME"], !pod.isEmpty { return pod }
        return "\(ProcessInfo.processInfo.hostName)_\(getpid())"
    }

    /// The settings' problems, each naming the flag: client-go's rules (lease duration above the renew deadline,
    /// the renew deadline above 1.2 retry periods, all positive).
    public func problems() -> [String] {
        var problems: [String] = []
        if leaseDuration <= .zero { problems.append("--leader-election-lease-duration must be positive") }
        if renewDeadline <= .zero { problems.append("--leader-election-renew-deadline must be positive") }
        if retryPeriod <= .zero { problems.append("--leader-election-retry-period must be positive") }
        if leaseDuration <= renewDeadline {
            problems.append(
                "--leader-election-lease-duration (\(leaseDuration)) must be longer than "
                    + "--leader-election-renew-deadline (\(renewDeadline))")
        }
        if renewDeadline <= retryPeriod * 1.2 {
            problems.append(
                "--leader-election-renew-deadline (\(renewDeadline)) must be longer than 1.2 x "
                    + "--leader-election-retry-period (\(retryPeriod))")
        }
        if identity.isEmpty { problems.append("the leader election identity is empty") }
        return problems
    }
}

/// Why leading ended other than by a stop.
public enum LeaderElectionError: Error, CustomStringConvertible {
    /// The lease could not be renewed within the renew deadline; the controllers were stopped.
    case lost(lease: String, identity: String, lastError: String?)

    public var description: String {
        switch self {
        case .lost(let lease, let identity, let lastError):
            "leadership of lease '\(lease)' lost by '\(identity)': not renewed within the renew deadline"
                + (lastError.map { " (last error: \($0))" } ?? "")
                + "; the controllers were stopped and the process exits so that it can start as a candidate again"
        }
    }
}
