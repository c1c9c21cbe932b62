import Foundation
import KubeClient
import KubeSim
import TestSupport
import Testing
import VeleroAPI

/// When the CLI works through a server: the presence Lease must be fresh and the velero.io API served; otherwise
/// it runs in process (a stale Lease says so). Set up by hand against kube-sim, without a server.
@Suite("velero-cas CLI: finding the server")
struct ServerDetectionTests {
    @Test("no Lease, a stale Lease, no CRDs: in process; a fresh Lease and the CRDs: through the server")
    func detection() async throws {
        let sim = try await KubeSimServer.start(KubeSimConfiguration())
        let temp = try TemporaryDirectory("cli-detect")
        defer { temp.remove() }
        let client = try await ServerProcess.prepare(sim, temp)
        // In process, `backup get` looks for the store under HOME (here: none); through the server it lists objects.
        func get() async throws -> CLIRunner.Result {
            try await CLIRunner.run(
                ["backup", "get", "--kubeconfig", temp.sub("kubeconfig")],
                environment: ["HOME": temp.path, "VELERO_NAMESPACE": ""])
        }
        let inProcess = "no velero-cas store at \(temp.path)/.velero-cas/store"

        let noLease = try await get()
        #expect(noLease.status != 0 && noLease.errors.contains(inProcess), "\(noLease.errors)")

        let stale = try ServerPresence.lease(namespace: "velero", holder: "gone", now: Date().addingTimeInterval(-60))
        _ = try await client.create(ServerPresence.resource, namespace: "velero", json: stale)
        let staleLease = try await get()
        #expect(staleLease.errors.contains("has not renewed its Lease"), "\(staleLease.errors)")
        #expect(staleLease.errors.contains(inProcess))

        let current = try await client.get(ServerPresence.resource, namespace: "velero", name: ServerPresence.leaseName)
        _ = try await client.replace(
            ServerPresence.resource, namespace: "velero", name: ServerPresence.leaseName,
            json: try ServerPresence.lease(
                namespace: "velero", holder: "here", now: Date(), resourceVersion: current.metadata.resourceVersion))
        let noCRDs = try await get()
        #expect(noCRDs.errors.contains(inProcess), "a fresh Lease without the velero.io API: \(noCRDs.errors)")

        let definitions = APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            kind: "CustomResourceDefinition", namespaced: false)
        for definition in VeleroCRDs.all {
            _ = try await client.create(definitions, namespace: nil, json: try definition.json())
        }
        let throughServer = try await get()
        #expect(throughServer.status == 0, "\(throughServer.errors)")
        #expect(throughServer.output.hasPrefix("NAME") && throughServer.output.contains("STORAGE LOCATION"))
        // --local and --store keep it in process.
        let local = try await CLIRunner.run(
            ["backup", "get", "--local", "--kubeconfig", temp.sub("kubeconfig")], environment: ["HOME": temp.path])
        #expect(local.errors.contains(inProcess), "\(local.errors)")
        // Another namespace has no server.
        let elsewhere = try await CLIRunner.run(
            ["schedule", "get", "-n", "other", "--kubeconfig", temp.sub("kubeconfig")],
            environment: ["HOME": temp.path])
        #expect(elsewhere.status != 0 && elsewhere.errors.contains("none runs in namespace 'other'"))
        try await sim.shutdown()
    }
}
