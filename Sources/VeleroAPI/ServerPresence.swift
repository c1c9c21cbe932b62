import Foundation
import KubeClient

/// How a running `velero-cas server` makes itself known to the CLI: a coordination.k8s.io Lease named
/// `velero-cas-server` in its namespace, renewed every `renewInterval` with `leaseDurationSeconds` of validity.
/// The CLI works through the server when that Lease is fresh (see the README, "The CLI through the server"); a
/// server that stops gracefully deletes it, one that is killed lets it go stale.
public enum ServerPresence {
    public static let leaseName = "velero-cas-server"
    public static let leaseDurationSeconds = 30
    public static let renewInterval: Duration = .seconds(10)
    public static let resource = APIResource(
        group: "coordination.k8s.io", version: "v1", name: "leases", singularName: "lease", kind: "Lease",
        namespaced: true)

    /// The Lease as written by `holder` at `now` (a MicroTime, as the API server keeps `renewTime`).
    public static func lease(namespace: String, holder: String, now: Date, resourceVersion: String? = nil)
        throws -> [UInt8]
    {
        var metadata: [String: String] = ["name": leaseName, "namespace": namespace]
        if let resourceVersion { metadata["resourceVersion"] = resourceVersion }
        let body = Lease(
            apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: metadata,
            spec: .init(holderIdentity: holder, leaseDurationSeconds: leaseDurationSeconds, renewTime: microTime(now)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(body))
    }

    /// Whether a Lease read from the API server says a server renewed it within its duration.
    public static func isFresh(_ json: [UInt8], now: Date) -> Bool {
        guard let lease = try? JSONDecoder().decode(LeaseSpecOnly.self, from: Data(json)),
            let renewed = lease.spec.renewTime.flatMap(KubeTime.parse)
        else { return false }
        let duration = TimeInterval(lease.spec.leaseDurationSeconds ?? leaseDurationSeconds)
        return now.timeIntervalSince(renewed) <= duration
    }

    /// The holder's identity as the Lease records it.
    public static func holder(of json: [UInt8]) -> String? {
        (try? JSONDecoder().decode(LeaseSpecOnly.self, from: Data(json)))?.spec.holderIdentity
    }

    /// metav1.MicroTime: RFC 3339 with six fractional digits, UTC.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        let base = KubeTime.format(Date(timeIntervalSince1970: whole))
        return String(base.dropLast()) + String(format: ".%06dZ", micros)
    }

    private struct LeaseSpecOnly: Decodable {
        var spec: Lease.Spec
    }

    private struct Lease: Codable {
        struct Spec: Codable {
            var holderIdentity: String?
            var leaseDurationSeconds: Int?
            var renewTime: String?
        }
        var apiVersion: String?
        var kind: String?
        var metadata: [String: String]?
        var spec: Spec
    }
}
