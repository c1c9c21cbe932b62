import Foundation
import HTTPTransport
import KubeSim
import TestSupport
import Testing

/// Fidelity: the real kubectl drives the simulator. kubectl needs /api, /apis and every group version for discovery,
/// protobuf bodies for `create namespace`, strategic merge patches for `apply`, and limit/continue for `get`; it asks
/// for /openapi/v3 and /openapi/v2 (404 here), hence `--validate=false` on apply.
extension Kubectl {
    init(server: KubeSimServer) throws { try self.init(writeKubeconfig: { try server.writeKubeconfig(path: $0) }) }
}

@Suite(.enabled(if: Kubectl.isInstalled, "kubectl is not installed: the kubectl fidelity tests are skipped"))
struct KubectlTests {
    static let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: x
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: IMAGE
                ports:
                - containerPort: 80
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: x
        data:
          mode: fast
        """

    @Test("kubectl api-resources shows built-in and custom resources with short names")
    func apiResources() async throws {
        try await SimHarness.with { sim in
            _ = try sim.server.create(Objects.widgetDefinition())
            let kubectl = try Kubectl(server: sim.server)
            defer { kubectl.remove() }
            let result = try await kubectl.run(["api-resources"])
            #expect(result.status == 0, "\(result.combined)")
            let rows = result.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.contains(["deployments", "deploy", "apps/v1", "true", "Deployment"]))
            #expect(rows.contains(["namespaces", "ns", "v1", "false", "Namespace"]))
            #expect(rows.contains(["gadgets", "gd", "stable.example.org/v1", "true", "Gadget"]))
            #expect(rows.contains(["secrets", "v1", "true", "Secret"]))
        }
    }

    @Test("create namespace, apply twice, get, delete — as against a real cluster")
    func createApplyGetDelete() async throws {
        try await SimHarness.with { sim in
            let kubectl = try Kubectl(server: sim.server)
            defer { kubectl.remove() }
            let created = try await kubectl.run(["create", "namespace", "x"])
            #expect(created.status == 0 && created.output.contains("namespace/x created"), "\(created.combined)")
            #expect(sim.server.object(at: "/api/v1/namespaces/x")?["status"]?["phase"] == "Active")

            let file = try kubectl.file("app.yaml", Self.manifest.replacingOccurrences(of: "IMAGE", with: "nginx:1.27"))
            let first = try await kubectl.run(["apply", "--validate=false", "-f", file])
            #expect(first.status == 0, "\(first.combined)")
            #expect(
                first.output.contains("deployment.apps/web created")
                    && first.output.contains("configmap/settings created"))
            let again = try await kubectl.run(["apply", "--validate=false", "-f", file])
            #expect(again.status == 0 && again.output.contains("deployment.apps/web unchanged"), "\(again.combined)")

            let changed = try kubectl.file(
                "app2.yaml", Self.manifest.replacingOccurrences(of: "IMAGE", with: "nginx:1.28"))
            let third = try await kubectl.run(["apply", "--validate=false", "-f", changed])
            #expect(third.status == 0 && third.output.contains("deployment.apps/web configured"), "\(third.combined)")
            let stored = try #require(sim.server.object(at: "/apis/apps/v1/namespaces/x/deployments/web"))
            let container = stored["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first
            #expect(container?["image"] == "nginx:1.28")
            #expect(
                container?["ports"] == [["containerPort": 80]], "the strategic merge kept the container's other fields")
            #expect(stored["metadata"]?["generation"] == 2)

            let configMaps = try await kubectl.run(["get", "configmaps", "-A", "-o", "json"])
            #expect(configMaps.status == 0, "\(configMaps.error)")
            let list = try JSONValue.parse(configMaps.output)
            #expect(list.itemNames == ["settings"])
            let item = try #require(list["items"]?.arrayValue?.first)
            #expect(item == sim.server.object(at: "/api/v1/namespaces/x/configmaps/settings"))

            let deployments = try await kubectl.run(["get", "deploy", "-n", "x", "-o", "json"])
            let deploymentList = try JSONValue.parse(deployments.output)
            #expect(deploymentList.itemNames == ["web"])
            #expect(deploymentList["items"]?.arrayValue?.first?["kind"] == "Deployment")

            let deleted = try await kubectl.run(["delete", "configmap", "settings", "-n", "x"])
            #expect(
                deleted.status == 0 && deleted.output.contains("configmap \"settings\" deleted"), "\(deleted.combined)")
            #expect(sim.server.objectCount(resource: "configmaps", namespace: "x") == 0)
            let missing = try await kubectl.run(["get", "configmap", "settings", "-n", "x"])
            #expect(missing.status != 0 && missing.error.contains("NotFound"), "\(missing.combined)")
        }
    }

    @Test("kubectl get -A pages through a generated cluster in chunks of 500")
    func pagination() async throws {
        let options = SyntheticCluster.Options(namespaces: 10, objectsPerNamespace: 500, seed: 11)
        try await SimHarness.with(KubeSimConfiguration(synthetic: options)) { sim in
            let kubectl = try Kubectl(server: sim.server)
            defer { kubectl.remove() }
            let pods = sim.server.objectCount(resource: "pods")
            #expect(pods > 600, "more than one page of pods")
            let result = try await kubectl.run(["get", "pods", "-A", "-o", "json"])
            #expect(result.status == 0, "\(result.error)")
            let list = try JSONValue.parse(result.output)
            let names = list.itemKeys
            #expect(names.count == pods)
            #expect(Set(names).count == pods)
            let lists = sim.server.requests.filter { $0.verb == "list" && $0.path == "/api/v1/pods" }
            #expect(lists.count == (pods + 499) / 500)
            #expect(lists.allSatisfy { $0.query.contains("limit=500") })
            #expect(lists.dropFirst().allSatisfy { $0.query.contains("continue=") })

            let widgets = try await kubectl.run(["get", "widgets", "-A", "-o", "json"])
            #expect(
                try JSONValue.parse(widgets.output).itemNames.count
                    == sim.server.objectCount(resource: "widgets", group: "example.com"))
        }
    }
}
