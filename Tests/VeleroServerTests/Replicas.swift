import Foundation
import HTTPTransport
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

/// A server running in a task of its own, as one replica (one process) would.
struct Replica: Sendable {
    let server: VeleroServer
    let task: Task<Void, any Error>

    /// Ends it as a kill would: no graceful stop, nothing released.
    func kill() async {
        task.cancel()
        _ = await task.result
    }

    /// A graceful stop (SIGTERM): running work finishes, the lease is released.
    func stop() async throws {
        server.stop()
        try await task.value
    }
}

extension ServerHarness {
    func startReplica(_ configuration: VeleroServer.Configuration) -> Replica {
        let server = VeleroServer(client: client, configuration: configuration)
        return Replica(server: server, task: Task { try await server.run() })
    }

    /// Starts a replica with leader election on and waits until it holds the lease.
    func startLeader(_ configuration: VeleroServer.Configuration) async throws -> Replica {
        let identity = try #require(configuration.leaderElection?.identity)
        let replica = startReplica(configuration)
        try await waitFor("\(identity) to lead") { try await leaseHolder() == identity ? true : nil }
        return replica
    }

    /// A configuration that elects a leader with short times (`identity` names the replica).
    func electing(
        _ identity: String, lease: Duration = .seconds(3), renew: Duration = .seconds(2),
        retry: Duration = .milliseconds(400)
    ) -> VeleroServer.Configuration {
        var configuration = configuration()
        configuration.leaderElection = LeaderElection(
            identity: identity, leaseDuration: lease, renewDeadline: renew, retryPeriod: retry)
        return configuration
    }

    static let leases = APIResource(
        group: "coordination.k8s.io", version: "v1", name: "leases", kind: "Lease", namespaced: true)

    /// The lease's spec.holderIdentity ("" when released), nil when there is no lease.
    func leaseHolder(_ name: String = LeaderElection.defaultLeaseName) async throws -> String? {
        struct Lease: Decodable {
            struct Spec: Decodable { var holderIdentity: String? }
            var spec: Spec?
        }
        do {
            let object = try await client.get(Self.leases, namespace: "velero", name: name)
            return try JSONDecoder().decode(Lease.self, from: Data(object.json)).spec?.holderIdentity ?? ""
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }
}

/// One scrape of a Prometheus text exposition: each sample by metric name and labels.
struct Scrape {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    let samples: [Sample]
    let text: String

    init(_ text: String) {
        self.text = text
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            var labels: [String: String] = [:]
            if let open = series.firstIndex(of: "{") {
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        self.samples = samples
    }

    /// The value of `name` with exactly `labels` (nil when absent).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// `name{schedule=""}`: a hand-made backup's series.
    func manual(_ name: String) -> Double? { value(name, ["schedule": ""]) }

    /// GETs `/metrics` from a server's endpoint.
    static func of(_ server: VeleroServer) async throws -> Scrape {
        let response = try await Endpoint.get(server, "/metrics")
        guard response.status == 200 else { throw Endpoint.Failure(status: response.status, body: response.text) }
        return Scrape(response.text)
    }
}

enum Endpoint {
    static let client = HTTPClient()

    struct Failure: Error {
        var status: Int
        var body: String
    }

    static func get(_ server: VeleroServer, _ path: String) async throws -> HTTPResponse {
        guard let port = server.metricsPort else { throw Failure(status: 0, body: "not listening yet") }
        return try await client.execute(HTTPRequest(method: .get, url: "http://127.0.0.1:\(port)\(path)"))
    }
}
