import Foundation
import HTTPTransport
import KubeSim
import Testing

@Suite("Create, get, update, patch, delete")
struct CRUDTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    @Test("create sets uid, resourceVersion, creationTimestamp; GET returns the same object")
    func createAndGet() async throws {
        try await SimHarness.with { sim in
            let before = sim.server.resourceVersion
            let created = try await sim.post(Self.cms, Objects.configMap("one", labels: ["app": "a"]))
            #expect(created.status == 201, "\(created.text)")
            let object = try created.json()
            #expect(object["kind"] == "ConfigMap")
            #expect(object["apiVersion"] == "v1")
            let metadata = try #require(object["metadata"])
            #expect(metadata["namespace"] == "default")
            #expect(UUID(uuidString: metadata["uid"]?.stringValue ?? "") != nil)
            let version = try #require(UInt64(metadata["resourceVersion"]?.stringValue ?? ""))
            #expect(version > before)
            let timestamp = metadata["creationTimestamp"]?.stringValue ?? ""
            #expect(timestamp.count == 20 && timestamp.hasSuffix("Z"), "\(timestamp)")
            #expect(ISO8601DateFormatter().date(from: timestamp) != nil)
            #expect(metadata["generation"] == nil, "config maps have no spec, so no generation")
            #expect(try await sim.getJSON(Self.cms + "/one") == object)
            #expect(sim.server.objectCount(resource: "configmaps", namespace: "default") == 1)

            let deployment = try await sim.post(
                "/apis/apps/v1/namespaces/default/deployments", Objects.deployment("web"))
            #expect(try deployment.json()["metadata"]?["generation"] == 1)
        }
    }

    @Test("generateName gives prefix plus five lowercase alphanumerics")
    func generateName() async throws {
        try await SimHarness.with { sim in
            var names: Set<String> = []
            for _ in 0..<5 {
                let body: JSONValue = ["metadata": ["generateName": "job-"], "data": [:]]
                let response = try await sim.post(Self.cms, body)
                #expect(response.status == 201)
                let name = try #require(try response.json()["metadata"]?["name"]?.stringValue)
                #expect(name.hasPrefix("job-") && name.count == 9)
                #expect(name.dropFirst(4).allSatisfy { $0.isLowercase || $0.isNumber })
                names.insert(name)
            }
            #expect(names.count == 5)
        }
    }

    @Test("PUT replaces, bumps resourceVersion and generation; a stale resourceVersion is 409 Conflict")
    func update() async throws {
        try await SimHarness.with { sim in
            let path = "/apis/apps/v1/namespaces/default/deployments/web"
            let created = try await sim.post("/apis/apps/v1/namespaces/default/deployments", Objects.deployment("web"))
                .json()
            var changed = created
            changed["spec"]?["replicas"] = 3
            let updated = try await sim.put(path, changed)
            #expect(updated.status == 200, "\(updated.text)")
            let after = try updated.json()
            #expect(after["spec"]?["replicas"] == 3)
            #expect(after["metadata"]?["generation"] == 2)
            #expect(after["metadata"]?["uid"] == created["metadata"]?["uid"])
            #expect(after["metadata"]?["resourceVersion"] != created["metadata"]?["resourceVersion"])

            try await sim.put(path, changed).expectStatus(409, reason: "Conflict")
            let message = try await sim.put(path, changed).json()["message"]?.stringValue ?? ""
            #expect(message.contains("the object has been modified"))

            var labelled = after
            labelled["metadata"]?["labels"] = ["team": "x"]
            let relabelled = try await sim.put(path, labelled).json()
            #expect(relabelled["metadata"]?["generation"] == 2, "metadata changes keep the generation")

            let unchanged = try await sim.put(path, relabelled).json()
            #expect(unchanged["metadata"]?["resourceVersion"] == relabelled["metadata"]?["resourceVersion"])

            var renamed = relabelled
            renamed["metadata"]?["name"] = "other"
            try await sim.put(path, renamed).expectStatus(400, reason: "BadRequest")
            try await sim.put("/apis/apps/v1/namespaces/default/deployments/missing", Objects.deployment("missing"))
                .expectStatus(404, reason: "NotFound")
        }
    }

    @Test("merge and strategic merge patches change only what they name")
    func patch() async throws {
        try await SimHarness.with { sim in
            _ = try await sim.post(Self.cms, Objects.configMap("p", data: ["a": "1", "b": "2"]))
            let merged = try await sim.patch(Self.cms + "/p", ["data": ["b": nil, "c": "3"]])
            #expect(merged.status == 200, "\(merged.text)")
            #expect(try merged.json()["data"] == ["a": "1", "c": "3"])

            let deployments = "/apis/apps/v1/namespaces/default/deployments"
            _ = try await sim.post(deployments, Objects.deployment("web"))
            let patch: JSONValue = [
                "spec": [
                    "template": [
                        "spec": [
                            "$setElementOrder/containers": [["name": "web"]],
                            "containers": [["name": "web", "image": "nginx:1.28"]],
                        ]
                    ]
                ]
            ]
            let response = try await sim.patch(
                deployments + "/web", patch, type: "application/strategic-merge-patch+json")
            let containers = try response.json()["spec"]?["template"]?["spec"]?["containers"]
            #expect(containers == [["name": "web", "image": "nginx:1.28"]])
            #expect(try response.json()["metadata"]?["generation"] == 2)

            let jsonPatch: JSONValue = [["op": "replace", "path": "/spec/replicas", "value": 4]]
            let patched = try await sim.patch(deployments + "/web", jsonPatch, type: "application/json-patch+json")
            #expect(try patched.json()["spec"]?["replicas"] == 4)

            try await sim.patch(Self.cms + "/p", ["data": [:]], type: "text/plain").expectStatus(
                415, reason: "UnsupportedMediaType")
            try await sim.patch(Self.cms + "/nope", ["data": [:]]).expectStatus(404, reason: "NotFound")
            try await sim.patch(Self.cms + "/p", ["metadata": ["resourceVersion": "1"]]).expectStatus(
                409, reason: "Conflict")
        }
    }

    @Test("DELETE returns the object; deleting a namespace deletes its objects")
    func delete() async throws {
        try await SimHarness.with { sim in
            _ = try await sim.post("/api/v1/namespaces", Objects.namespace("doomed"))
            for index in 0..<3 {
                let path = "/api/v1/namespaces/doomed/configmaps"
                #expect(try await sim.post(path, Objects.configMap("c\(index)")).status == 201)
            }
            _ = try await sim.post(Self.cms, Objects.configMap("survivor"))
            let deleted = try await sim.delete("/api/v1/namespaces/doomed/configmaps/c0")
            #expect(deleted.status == 200)
            #expect(try deleted.json()["metadata"]?["name"] == "c0")
            #expect(try deleted.json()["kind"] == "ConfigMap")
            try await sim.get("/api/v1/namespaces/doomed/configmaps/c0").expectStatus(404, reason: "NotFound")
            try await sim.delete("/api/v1/namespaces/doomed/configmaps/c0").expectStatus(404, reason: "NotFound")

            #expect(try await sim.delete("/api/v1/namespaces/doomed").status == 200)
            #expect(sim.server.objectCount(resource: "configmaps", namespace: "doomed") == 0)
            #expect(sim.server.objectCount(resource: "configmaps", namespace: "default") == 1)
            try await sim.get("/api/v1/namespaces/doomed").expectStatus(404, reason: "NotFound")
            try await sim.post("/api/v1/namespaces/doomed/configmaps", Objects.configMap("x"))
                .expectStatus(404, reason: "NotFound")
        }
    }

    @Test("a namespace with finalizers stays Terminating, refusing new objects, until its last finalizer is removed")
    func terminatingNamespace() async throws {
        try await SimHarness.with { sim in
            let namespace: JSONValue = ["metadata": ["name": "held", "finalizers": ["example.com/hold"]]]
            #expect(try await sim.post("/api/v1/namespaces", namespace).status == 201)
            #expect(try await sim.post("/api/v1/namespaces/held/configmaps", Objects.configMap("c")).status == 201)

            let deleted = try await sim.delete("/api/v1/namespaces/held")
            #expect(deleted.status == 200)
            #expect(try deleted.json()["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            let held = try await sim.getJSON("/api/v1/namespaces/held")
            #expect(held["status"]?["phase"] == "Terminating")
            #expect(held["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            #expect(sim.server.objectCount(resource: "configmaps", namespace: "held") == 0)
            let refused = try await sim.post("/api/v1/namespaces/held/configmaps", Objects.configMap("d"))
            try refused.expectStatus(403, reason: "Forbidden")
            #expect(try refused.json()["message"]?.stringValue?.contains("is being terminated") == true)
            let terminating = try await sim.getJSON("/api/v1/namespaces?fieldSelector=status.phase%3DTerminating")
            #expect(terminating["items"]?.arrayValue?.count == 1)

            // An unrelated update keeps it Terminating; removing the last finalizer removes it.
            let labelled = try await sim.patch("/api/v1/namespaces/held", ["metadata": ["labels": ["a": "b"]]])
            #expect(labelled.status == 200)
            #expect(try labelled.json()["status"]?["phase"] == "Terminating")
            let released = try await sim.patch("/api/v1/namespaces/held", ["metadata": ["finalizers": .null]])
            #expect(released.status == 200)
            try await sim.get("/api/v1/namespaces/held").expectStatus(404, reason: "NotFound")
            #expect(try await sim.post("/api/v1/namespaces", Objects.namespace("held")).status == 201)
            #expect(try await sim.getJSON("/api/v1/namespaces/held")["status"]?["phase"] == "Active")
        }
    }

    @Test("cluster-scoped objects live at /api/v1/{resource}/{name} and drop a namespace")
    func clusterScoped() async throws {
        try await SimHarness.with { sim in
            let pv: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": ["name": "pv1", "namespace": "ignored"], "spec": ["capacity": ["storage": "1Gi"]],
            ]
            let created = try await sim.post("/api/v1/persistentvolumes", pv)
            #expect(created.status == 201)
            #expect(try created.json()["metadata"]?["namespace"] == nil)
            let fetched = try await sim.getJSON("/api/v1/persistentvolumes/pv1")
            #expect(fetched["spec"]?["capacity"]?["storage"] == "1Gi")
            try await sim.get("/api/v1/namespaces/default/persistentvolumes/pv1").expectStatus(404, reason: "NotFound")
            let namespace = try await sim.getJSON("/api/v1/namespaces/default")
            #expect(namespace["status"]?["phase"] == "Active")
            #expect(namespace["metadata"]?["labels"]?["kubernetes.io/metadata.name"] == "default")
        }
    }
}
