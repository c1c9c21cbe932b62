import HTTPTransport
import KubeSim
import Testing

@Suite("Status errors and authentication")
struct ErrorTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    @Test("404 NotFound names the object and resource")
    func notFound() async throws {
        try await SimHarness.with { sim in
            let response = try await sim.get(Self.cms + "/ghost")
            try response.expectStatus(404, reason: "NotFound")
            let body = try response.json()
            #expect(body["message"] == "configmaps \"ghost\" not found")
            #expect(body["details"] == ["name": "ghost", "kind": "configmaps"])
            let deployment = try await sim.get("/apis/apps/v1/namespaces/default/deployments/ghost").json()
            #expect(deployment["message"] == "deployments.apps \"ghost\" not found")
            #expect(deployment["details"]?["group"] == "apps")
            try await sim.post("/api/v1/namespaces/nowhere/configmaps", Objects.configMap("x"))
                .expectStatus(404, reason: "NotFound")
        }
    }

    @Test("409 AlreadyExists on a duplicate create")
    func alreadyExists() async throws {
        try await SimHarness.with { sim in
            #expect(try await sim.post(Self.cms, Objects.configMap("dup")).status == 201)
            let response = try await sim.post(Self.cms, Objects.configMap("dup"))
            try response.expectStatus(409, reason: "AlreadyExists")
            #expect(try response.json()["message"] == "configmaps \"dup\" already exists")
        }
    }

    @Test("422 Invalid for bad names, with causes; 400 for bad bodies and namespace mismatch")
    func invalid() async throws {
        try await SimHarness.with { sim in
            let response = try await sim.post(Self.cms, Objects.configMap("Bad_Name"))
            try response.expectStatus(422, reason: "Invalid")
            let body = try response.json()
            #expect(body["message"]?.stringValue?.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name") == true)
            let cause = body["details"]?["causes"]?.arrayValue?.first
            #expect(cause?["field"] == "metadata.name")
            #expect(cause?["reason"] == "FieldValueInvalid")
            #expect(body["details"]?["kind"] == "ConfigMap")

            let longLabel = String(repeating: "a", count: 64)
            try await sim.post("/api/v1/namespaces", Objects.namespace(longLabel)).expectStatus(422, reason: "Invalid")
            try await sim.post("/api/v1/namespaces", Objects.namespace("has.dot")).expectStatus(422, reason: "Invalid")
            #expect(try await sim.post(Self.cms, Objects.configMap("has.dot")).status == 201, "subdomains allow dots")
            let role: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "system:x"],
            ]
            #expect(try await sim.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", role).status == 201)
            try await sim.post(Self.cms, ["metadata": [:]]).expectStatus(422, reason: "Invalid")
            try await sim.post(Self.cms, Objects.configMap("l", labels: ["k": "bad value"]))
                .expectStatus(422, reason: "Invalid")

            try await sim.post(Self.cms, Objects.configMap("x", namespace: "other")).expectStatus(
                400, reason: "BadRequest")
            try await sim.request(.post, Self.cms, body: Array("{not json".utf8), contentType: "application/json")
                .expectStatus(400, reason: "BadRequest")
            var wrongKind = Objects.configMap("k")
            wrongKind["kind"] = "Secret"
            try await sim.post(Self.cms, wrongKind).expectStatus(400, reason: "BadRequest")
            var withVersion = Objects.configMap("v")
            withVersion["metadata"]?["resourceVersion"] = "12"
            try await sim.post(Self.cms, withVersion).expectStatus(400, reason: "BadRequest")
        }
    }

    @Test("405 MethodNotAllowed for verbs a path does not take")
    func methodNotAllowed() async throws {
        try await SimHarness.with { sim in
            _ = try await sim.post(Self.cms, Objects.configMap("m"))
            try await sim.post(Self.cms + "/m", Objects.configMap("m")).expectStatus(405, reason: "MethodNotAllowed")
            try await sim.put(Self.cms, Objects.configMap("m")).expectStatus(405, reason: "MethodNotAllowed")
            try await sim.post("/api/v1/configmaps", Objects.configMap("m")).expectStatus(
                405, reason: "MethodNotAllowed")
            try await sim.delete("/api/v1/namespaces").expectStatus(405, reason: "MethodNotAllowed")
        }
    }

    @Test("bearer tokens: none or wrong is 401, read-only writes are 403 with the real message")
    func authentication() async throws {
        let configuration = KubeSimConfiguration(credentials: [
            Credential(token: "admin-token"), Credential(token: "viewer-token", role: .readOnly, user: "viewer"),
        ])
        try await SimHarness.with(configuration, token: "admin-token") { sim in
            try await sim.request(.get, "/api/v1/namespaces", token: .some(nil)).expectStatus(
                401, reason: "Unauthorized")
            try await sim.request(.get, "/api", token: "wrong").expectStatus(401, reason: "Unauthorized")
            #expect(try await sim.get("/api/v1/namespaces").status == 200)
            #expect(try await sim.post(Self.cms, Objects.configMap("a")).status == 201)

            let viewer = SimHarness(server: sim.server, client: sim.client, token: "viewer-token")
            #expect(try await viewer.get(Self.cms + "/a").status == 200)
            #expect(try await viewer.get("/apis").status == 200)
            let forbidden = try await viewer.post(Self.cms, Objects.configMap("b"))
            try forbidden.expectStatus(403, reason: "Forbidden")
            #expect(
                try forbidden.json()["message"]
                    == .string(
                        "configmaps is forbidden: User \"viewer\" cannot create resource \"configmaps\" in API group "
                            + "\"\" in the namespace \"default\""))
            let delete = try await viewer.delete("/apis/storage.k8s.io/v1/storageclasses/fast").json()
            #expect(
                delete["message"]
                    == .string(
                        "storageclasses.storage.k8s.io \"fast\" is forbidden: User \"viewer\" cannot delete resource "
                            + "\"storageclasses\" in API group \"storage.k8s.io\" at the cluster scope"))
            #expect(sim.server.objectCount(resource: "configmaps") == 1)
        }
    }
}
