import Foundation
import HTTPTransport
import KubeSim
import TestSupport
import Testing

@Suite("Synthetic clusters and fixtures")
struct DataTests {
    @Test("the generator makes N×M namespaced objects of every kind, 1–10 KiB, plus cluster-scoped ones")
    func generatorCounts() async throws {
        let options = SyntheticCluster.Options(namespaces: 4, objectsPerNamespace: 120, seed: 7)
        let configuration = KubeSimConfiguration(createDefaultNamespaces: false, synthetic: options)
        try await SimHarness.with(configuration) { sim in
            let summary = try #require(sim.server.generated)
            let namespaced = SyntheticKindsTests.namespacedKeys
            #expect(namespaced.reduce(0) { $0 + (summary.counts[$1] ?? 0) } == 480)
            for key in namespaced { #expect((summary.counts[key] ?? 0) > 0, "\(key): \(summary.counts[key] ?? 0)") }
            for key in ["configmaps", "secrets", "pods"] {
                #expect((summary.counts[key] ?? 0) > 40, "\(key): \(summary.counts[key] ?? 0)")
            }
            #expect(summary.counts["namespaces"] == 4)
            #expect(summary.counts["persistentvolumes"] == 4)
            #expect(summary.counts["storageclasses.storage.k8s.io"] == 3)
            #expect(summary.counts["clusterroles.rbac.authorization.k8s.io"] == 5)
            #expect(summary.counts["clusterrolebindings.rbac.authorization.k8s.io"] == 5)
            #expect(summary.counts["priorityclasses.scheduling.k8s.io"] == 4)
            #expect(summary.counts["customresourcedefinitions.apiextensions.k8s.io"] == 4)
            #expect(summary.total == 4 + 480 + 4 + 3 + 5 + 5 + 4 + 4)
            #expect(sim.server.objectCount() == summary.total)

            let pods = try await sim.getJSON("/api/v1/pods")
            #expect(pods.itemNames.count == summary.counts["pods"])
            for item in pods["items"]?.arrayValue ?? [] {
                let size = item.encoded().count
                #expect((1024...10 * 1024 + 256).contains(size), "pod of \(size) bytes")
                #expect(item["metadata"]?["labels"]?["app"] != nil && item["metadata"]?["labels"]?["tier"] != nil)
            }
            let widgets = try await sim.getJSON("/apis/example.com/v1/widgets")
            #expect(widgets.itemNames.count == summary.counts["widgets.example.com"])
            #expect(widgets["items"]?.arrayValue?.first?["kind"] == "Widget")
            let front = try await sim.getJSON("/api/v1/configmaps?labelSelector=tier%3Dfrontend")
            #expect(!front.itemNames.isEmpty && front.itemNames.count < summary.counts["configmaps"]!)
            let running = try await sim.getJSON("/api/v1/pods?fieldSelector=status.phase%3DRunning")
            #expect(running.itemNames.count == summary.counts["pods"])
            let sizes =
                (try await sim.getJSON("/api/v1/configmaps"))["items"]?.arrayValue?.map { $0.encoded().count } ?? []
            #expect(sizes.max()! > 6 * 1024 && sizes.min()! < 4 * 1024, "sizes spread over the range")
        }
    }

    @Test("the same seed gives the same bytes; another seed does not")
    func determinism() async throws {
        func firstPod(seed: UInt64) async throws -> [UInt8] {
            let options = SyntheticCluster.Options(namespaces: 2, objectsPerNamespace: 30, seed: seed)
            return try await SimHarness.with(KubeSimConfiguration(synthetic: options)) { sim in
                let pods = try await sim.getJSON("/api/v1/pods?limit=1")
                let name = try #require(pods.itemNames.first)
                let namespace = pods["items"]?.arrayValue?.first?["metadata"]?["namespace"]?.stringValue ?? ""
                return try #require(sim.server.objectBytes(at: "/api/v1/namespaces/\(namespace)/pods/\(name)"))
            }
        }
        let first = try await firstPod(seed: 42)
        #expect(try await firstPod(seed: 42) == first)
        #expect(try await firstPod(seed: 43) != first)
    }

    @Test("generated objects parse, round-trip through PUT unchanged, and keep valid resourceVersions")
    func roundTrip() async throws {
        // 61 objects: one full deck of the weighted kinds, so every kind (deployments included) is there.
        let options = SyntheticCluster.Options(namespaces: 1, objectsPerNamespace: 61, seed: 3)
        try await SimHarness.with(KubeSimConfiguration(synthetic: options)) { sim in
            let list = try await sim.getJSON("/apis/apps/v1/deployments")
            let item = try #require(list["items"]?.arrayValue?.first)
            let name = item["metadata"]?["name"]?.stringValue ?? ""
            let namespace = item["metadata"]?["namespace"]?.stringValue ?? ""
            let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/\(name)"
            let original = try await sim.getJSON(path)
            let put = try await sim.put(path, original)
            #expect(put.status == 200)
            #expect(try put.json() == original, "an unchanged PUT is a no-op, as on the real server")
        }
    }

    @Test("fixtures: multi-document YAML, kind List and JSON files load, namespaces are created")
    func fixtures() async throws {
        let directory = try TemporaryDirectory("kubesim-fixtures")
        defer { directory.remove() }
        let yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: shop
              labels: {app: shop}
            data:
              port: "8080"
              enabled: "true"
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Secret
              metadata: {name: creds, namespace: shop}
              type: Opaque
              data: {password: cGFzcw==}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: shop, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: shop}}
                template:
                  metadata: {labels: {app: shop}}
                  spec: {containers: [{name: shop, image: "shop:1.0"}]}
            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: directory.sub("a.yaml")))
        let json =
            #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-a"},"spec":{"capacity":{"storage":"5Gi"}}}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: directory.sub("b.json")))
        let configuration = KubeSimConfiguration(fixtures: [directory.path])
        try await SimHarness.with(configuration) { sim in
            let settings = try await sim.getJSON("/api/v1/namespaces/shop/configmaps/settings")
            #expect(settings["data"] == ["port": "8080", "enabled": "true"])
            #expect(try await sim.getJSON("/api/v1/namespaces/shop/secrets/creds")["type"] == "Opaque")
            let deployment = try await sim.getJSON("/apis/apps/v1/namespaces/shop/deployments/shop")
            #expect(deployment["spec"]?["replicas"] == 2)
            #expect(try await sim.getJSON("/api/v1/persistentvolumes/pv-a")["spec"]?["capacity"]?["storage"] == "5Gi")
            #expect(try await sim.get("/api/v1/namespaces/shop").status == 200)
        }
        await #expect(throws: KubeSimError.self) {
            _ = try await KubeSimServer.start(KubeSimConfiguration(fixtures: [directory.sub("missing.yaml")]))
        }
    }
}
