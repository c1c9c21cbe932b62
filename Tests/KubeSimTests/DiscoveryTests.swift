import HTTPTransport
import KubeSim
import Testing

@Suite("Discovery")
struct DiscoveryTests {
    @Test("GET /version reports a Kubernetes version")
    func version() async throws {
        try await SimHarness.with { sim in
            let version = try await sim.getJSON("/version")
            #expect(version["major"] == "1")
            #expect(version["minor"] == "32")
            #expect(version["gitVersion"]?.stringValue?.hasPrefix("v1.32") == true)
            #expect(version["platform"] != nil)
        }
    }

    @Test("GET /api is an APIVersions with v1 and the server address")
    func coreVersions() async throws {
        try await SimHarness.with { sim in
            let response = try await sim.get("/api")
            #expect(response.header("Content-Type") == "application/json")
            let versions = try response.json()
            #expect(versions["kind"] == "APIVersions")
            #expect(versions["versions"] == ["v1"])
            let address = versions["serverAddressByClientCIDRs"]?.arrayValue?.first?["serverAddress"]
            #expect(address == .string("127.0.0.1:\(sim.server.port)"))
        }
    }

    @Test("GET /api/v1 lists core resources with real short names and scopes")
    func coreResources() async throws {
        try await SimHarness.with { sim in
            let list = try await sim.getJSON("/api/v1")
            #expect(list["kind"] == "APIResourceList")
            #expect(list["groupVersion"] == "v1")
            let resources = list["resources"]?.arrayValue ?? []
            func entry(_ name: String) -> JSONValue? { resources.first { $0["name"] == .string(name) } }
            let expected: [(String, String, Bool, [String])] = [
                ("pods", "Pod", true, ["po"]), ("services", "Service", true, ["svc"]),
                ("configmaps", "ConfigMap", true, ["cm"]), ("namespaces", "Namespace", false, ["ns"]),
                ("persistentvolumes", "PersistentVolume", false, ["pv"]),
                ("persistentvolumeclaims", "PersistentVolumeClaim", true, ["pvc"]),
                ("serviceaccounts", "ServiceAccount", true, ["sa"]), ("nodes", "Node", false, ["no"]),
            ]
            for (name, kind, namespaced, shortNames) in expected {
                let resource = try #require(entry(name), "missing \(name)")
                #expect(resource["kind"] == .string(kind))
                #expect(resource["namespaced"] == .bool(namespaced))
                #expect(resource["shortNames"] == .array(shortNames.map { .string($0) }))
                #expect(resource["singularName"] == .string(String(kind.lowercased())))
                #expect(resource["verbs"]?.arrayValue?.contains("list") == true)
            }
            #expect(entry("secrets")?["shortNames"] == nil)
            #expect(entry("namespaces")?["verbs"]?.arrayValue?.contains("deletecollection") == false)
            for name in ["endpoints", "events", "limitranges", "resourcequotas"] { #expect(entry(name) != nil) }
        }
    }

    @Test("GET /apis lists every built-in group with its preferred version")
    func groups() async throws {
        try await SimHarness.with { sim in
            let list = try await sim.getJSON("/apis")
            #expect(list["kind"] == "APIGroupList")
            let groups = list["groups"]?.arrayValue ?? []
            let names = groups.compactMap { $0["name"]?.stringValue }
            for group in [
                "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "storage.k8s.io",
                "scheduling.k8s.io", "policy", "apiextensions.k8s.io",
            ] {
                #expect(names.contains(group), "missing group \(group)")
            }
            let apps = try #require(groups.first { $0["name"] == "apps" })
            #expect(apps["preferredVersion"] == ["groupVersion": "apps/v1", "version": "v1"])
            #expect(apps["versions"] == [["groupVersion": "apps/v1", "version": "v1"]])

            let group = try await sim.getJSON("/apis/batch")
            #expect(group["kind"] == "APIGroup")
            #expect(group["name"] == "batch")
        }
    }

    @Test("group versions list their resources; unknown ones are 404 Status")
    func groupVersionResources() async throws {
        try await SimHarness.with { sim in
            let apps = try await sim.getJSON("/apis/apps/v1")
            #expect(apps["groupVersion"] == "apps/v1")
            let resources = apps["resources"]?.arrayValue ?? []
            let deployments = try #require(resources.first { $0["name"] == "deployments" })
            #expect(deployments["shortNames"] == ["deploy"])
            #expect(deployments["kind"] == "Deployment")
            let names = Set(resources.compactMap { $0["name"]?.stringValue })
            #expect(names == ["daemonsets", "deployments", "replicasets", "statefulsets"])

            let shortNames: [(String, String, String)] = [
                ("/apis/batch/v1", "cronjobs", "cj"), ("/apis/networking.k8s.io/v1", "ingresses", "ing"),
                ("/apis/networking.k8s.io/v1", "networkpolicies", "netpol"),
                ("/apis/storage.k8s.io/v1", "storageclasses", "sc"),
                ("/apis/scheduling.k8s.io/v1", "priorityclasses", "pc"),
                ("/apis/policy/v1", "poddisruptionbudgets", "pdb"),
                ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", "crd"),
            ]
            for (path, name, short) in shortNames {
                let list = try await sim.getJSON(path)
                let entry = list["resources"]?.arrayValue?.first { $0["name"] == .string(name) }
                #expect(entry?["shortNames"]?.arrayValue?.first == .string(short), "\(path) \(name)")
            }
            let cluster = try await sim.getJSON("/apis/rbac.authorization.k8s.io/v1")
            let clusterRoles = cluster["resources"]?.arrayValue?.first { $0["name"] == "clusterroles" }
            #expect(clusterRoles?["namespaced"] == false)

            try await sim.get("/apis/apps/v2").expectStatus(404, reason: "NotFound")
            try await sim.get("/apis/nosuch.example.com").expectStatus(404, reason: "NotFound")
            try await sim.get("/api/v1/nosuchthings").expectStatus(404, reason: "NotFound")
            #expect(try await sim.get("/openapi/v2").status == 404)
        }
    }
}
