import HTTPTransport
import KubeSim
import Testing

@Suite("CustomResourceDefinitions")
struct CustomResourceTests {
    static let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

    @Test("a created CRD is established and its resource appears in discovery at once")
    func discovery() async throws {
        try await SimHarness.with { sim in
            try await sim.get("/apis/stable.example.org/v1").expectStatus(404, reason: "NotFound")
            let created = try await sim.post(Self.crds, Objects.widgetDefinition())
            #expect(created.status == 201, "\(created.text)")
            let status = try created.json()["status"]
            let conditions = status?["conditions"]?.arrayValue ?? []
            for type in ["Established", "NamesAccepted"] {
                let condition = conditions.first { $0["type"] == .string(type) }
                #expect(condition?["status"] == "True", "\(type)")
            }
            #expect(status?["acceptedNames"]?["plural"] == "gadgets")
            #expect(status?["acceptedNames"]?["kind"] == "Gadget")
            #expect(status?["storedVersions"] == ["v1"])

            let groups = try await sim.getJSON("/apis")["groups"]?.arrayValue ?? []
            let group = try #require(groups.first { $0["name"] == "stable.example.org" })
            #expect(group["preferredVersion"]?["version"] == "v1", "GA is preferred over beta")
            #expect(group["versions"]?.arrayValue?.count == 2)

            let resources = try await sim.getJSON("/apis/stable.example.org/v1")["resources"]?.arrayValue ?? []
            let gadgets = try #require(resources.first { $0["name"] == "gadgets" })
            #expect(gadgets["kind"] == "Gadget")
            #expect(gadgets["namespaced"] == true)
            #expect(gadgets["shortNames"] == ["gd"])
            #expect(gadgets["singularName"] == "gadget")
            #expect(try await sim.get("/apis/stable.example.org/v1beta1").status == 200)
        }
    }

    @Test("custom objects can be created, listed with kind and apiVersion, and removed with their CRD")
    func customObjects() async throws {
        try await SimHarness.with { sim in
            #expect(try await sim.post(Self.crds, Objects.widgetDefinition()).status == 201)
            let path = "/apis/stable.example.org/v1/namespaces/default/gadgets"
            for name in ["g2", "g1"] {
                let gadget: JSONValue = [
                    "apiVersion": "stable.example.org/v1", "kind": "Gadget", "metadata": ["name": .string(name)],
                    "spec": ["size": 3],
                ]
                let response = try await sim.post(path, gadget)
                #expect(response.status == 201, "\(response.text)")
                #expect(try response.json()["metadata"]?["generation"] == 1)
            }
            let list = try await sim.getJSON(path)
            #expect(list["kind"] == "GadgetList")
            #expect(list.itemNames == ["g1", "g2"])
            for item in list["items"]?.arrayValue ?? [] {
                #expect(item["kind"] == "Gadget")
                #expect(item["apiVersion"] == "stable.example.org/v1")
            }
            let beta = try await sim.getJSON("/apis/stable.example.org/v1beta1/namespaces/default/gadgets/g1")
            #expect(beta["apiVersion"] == "stable.example.org/v1beta1")
            #expect(try await sim.getJSON("/apis/stable.example.org/v1/gadgets").itemNames == ["g1", "g2"])

            #expect(try await sim.delete(Self.crds + "/gadgets.stable.example.org").status == 200)
            try await sim.get(path).expectStatus(404, reason: "NotFound")
            #expect(sim.server.objectCount(resource: "gadgets", group: "stable.example.org") == 0)
            let groups = try await sim.getJSON("/apis")["groups"]?.arrayValue ?? []
            #expect(!groups.contains { $0["name"] == "stable.example.org" })
        }
    }

    @Test("cluster-scoped CRDs serve objects without namespaces")
    func clusterScoped() async throws {
        try await SimHarness.with { sim in
            #expect(
                try await sim.post(Self.crds, Objects.widgetDefinition(scope: "Cluster", group: "c.example.org")).status
                    == 201)
            let gadget: JSONValue = ["apiVersion": "c.example.org/v1", "kind": "Gadget", "metadata": ["name": "top"]]
            #expect(try await sim.post("/apis/c.example.org/v1/gadgets", gadget).status == 201)
            #expect(try await sim.getJSON("/apis/c.example.org/v1/gadgets/top")["metadata"]?["namespace"] == nil)
            try await sim.post("/apis/c.example.org/v1/namespaces/default/gadgets", gadget)
                .expectStatus(404, reason: "NotFound")
        }
    }

    @Test("invalid definitions are 422 with causes")
    func invalidDefinition() async throws {
        try await SimHarness.with { sim in
            var wrongName = Objects.widgetDefinition()
            wrongName["metadata"]?["name"] = "gadgets.other.org"
            let response = try await sim.post(Self.crds, wrongName)
            try response.expectStatus(422, reason: "Invalid")
            let causes = try response.json()["details"]?["causes"]?.arrayValue ?? []
            #expect(causes.contains { $0["field"] == "metadata.name" })

            var badScope = Objects.widgetDefinition()
            badScope["spec"]?["scope"] = "Galaxy"
            try await sim.post(Self.crds, badScope).expectStatus(422, reason: "Invalid")
            #expect(sim.server.resourceTypes.allSatisfy { $0.resource != "gadgets" })
        }
    }
}
