import Foundation
import HTTPTransport
import KubeSim
import TestSupport
import Testing

/// coordination.k8s.io/v1 Leases, as leader election uses them: kubectl sees and applies them, and a write naming a
/// stale resourceVersion is refused with 409 Conflict, so two candidates cannot both take one lease.
@Suite struct LeaseTests {
    static func lease(_ holder: String, resourceVersion: String? = nil) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": "leader", "namespace": "velero"]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata),
            "spec": [
                "holderIdentity": .string(holder), "leaseDurationSeconds": 15,
                "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0,
            ],
        ]
    }

    @Test("a Lease is created, replaced with its resourceVersion, and a stale replace gets 409 Conflict")
    func optimisticConcurrency() async throws {
        try await SimHarness.with { sim in
            _ = try await sim.post("/api/v1/namespaces", Objects.namespace("velero"))
            let path = "/apis/coordination.k8s.io/v1/namespaces/velero/leases"
            let created = try await sim.post(path, Self.lease("a"))
            #expect(created.status == 201, "\(created.text)")
            let version = try #require(try created.json()["metadata"]?["resourceVersion"]?.stringValue)
            let taken = try await sim.put(path + "/leader", Self.lease("b", resourceVersion: version))
            #expect(taken.status == 200, "\(taken.text)")
            let stale = try await sim.put(path + "/leader", Self.lease("c", resourceVersion: version))
            try stale.expectStatus(409, reason: "Conflict")
            let stored = try await sim.getJSON(path + "/leader")
            #expect(stored["spec"]?["holderIdentity"] == "b")
            let again = try await sim.post(path, Self.lease("d"))
            try again.expectStatus(409, reason: "AlreadyExists")
        }
    }

    @Test(
        "kubectl lists leases in api-resources, applies one and reads its holder back",
        .enabled(if: Kubectl.isInstalled, "kubectl is not installed: the kubectl fidelity tests are skipped"))
    func kubectl() async throws {
        try await SimHarness.with { sim in
            let kubectl = try Kubectl(server: sim.server)
            defer { kubectl.remove() }
            let resources = try await kubectl.run(["api-resources", "--api-group", "coordination.k8s.io"])
            #expect(resources.status == 0, "\(resources.combined)")
            let rows = resources.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.contains(["leases", "coordination.k8s.io/v1", "true", "Lease"]), "\(resources.output)")

            _ = try await kubectl.run(["create", "namespace", "velero"])
            let file = try kubectl.file(
                "lease.yaml",
                """
                apiVersion: coordination.k8s.io/v1
                kind: Lease
                metadata: {name: leader, namespace: velero}
                spec: {holderIdentity: pod-a, leaseDurationSeconds: 15}
                """)
            let applied = try await kubectl.run(["apply", "--validate=false", "-f", file])
            #expect(applied.output.contains("lease.coordination.k8s.io/leader created"), "\(applied.combined)")
            let holder = try await kubectl.run([
                "get", "lease", "leader", "-n", "velero", "-o", "jsonpath={.spec.holderIdentity}",
            ])
            #expect(holder.status == 0 && holder.output == "pod-a", "\(holder.combined)")
        }
    }
}
