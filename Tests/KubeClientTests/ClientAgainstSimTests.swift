import Foundation
import HTTPTransport
import KubeSim
import Testing

@testable import KubeClient

@Suite("KubeClient against the in-memory API server")
struct ClientAgainstSimTests {
    @Test("discovery lists core, grouped and cluster-scoped resources with their short names")
    func discovery() async throws {
        try await SimulatedCluster.with { cluster in
            let resources = try await cluster.client.discover()
            let byName = Dictionary(resources.map { ($0.qualifiedName, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byName["pods"]?.namespaced == true)
            #expect(byName["deployments.apps"]?.shortNames.contains("deploy") == true)
            #expect(byName["persistentvolumes"]?.namespaced == false)
            #expect(byName["customresourcedefinitions.apiextensions.k8s.io"] != nil)
            #expect(!resources.contains { $0.name.contains("/") })
        }
    }

    @Test("create, get, merge-patch, replace with a stale version, and delete, with typed errors")
    func crud() async throws {
        try await SimulatedCluster.with { cluster in
            let namespaces = try await cluster.resource("namespaces")
            let configmaps = try await cluster.resource("configmaps")
            try await cluster.client.create(
                namespaces, namespace: nil,
                json: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"#.utf8))
            let created = try await cluster.client.create(
                configmaps, namespace: "team",
                json: Array(
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}}"#.utf8))
            #expect(created.metadata.uid?.isEmpty == false)
            let fetched = try await cluster.client.get(configmaps, namespace: "team", name: "settings")
            #expect(fetched.kind == "ConfigMap" && fetched.apiVersion == "v1")
            let patched = try await cluster.client.mergePatch(
                configmaps, namespace: "team", name: "settings",
                patch: Array(#"{"metadata":{"labels":{"tier":"db"}}}"#.utf8))
            #expect(patched.metadata.labels == ["tier": "db"])

            let stale =
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","resourceVersion":"\#(created.metadata.resourceVersion!)"}}"#
            let conflict = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.replace(
                    configmaps, namespace: "team", name: "settings", json: Array(stale.utf8))
            }
            #expect(conflict?.isConflict == true)
            let exists = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.create(
                    configmaps, namespace: "team", json: Array(#"{"metadata":{"name":"settings"}}"#.utf8))
            }
            #expect(exists?.isAlreadyExists == true)
            let invalid = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.create(
                    configmaps, namespace: "team", json: Array(#"{"metadata":{"name":"Not_Valid"}}"#.utf8))
            }
            #expect(invalid?.code == 422 && invalid?.reason == "Invalid")

            try await cluster.client.delete(configmaps, namespace: "team", name: "settings")
            let gone = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.get(configmaps, namespace: "team", name: "settings")
            }
            #expect(gone?.isNotFound == true)
            #expect(
                gone?.description.contains("GET /api/v1/namespaces/team/configmaps/settings failed: 404 NotFound")
                    == true)
        }
    }

    @Test("listAll pages through everything once, in order, across page boundaries", arguments: [1, 7, 500])
    func pagination(pageSize: Int) async throws {
        try await SimulatedCluster.with(synthetic: SyntheticCluster.Options(namespaces: 4, objectsPerNamespace: 30)) {
            cluster in
            let configmaps = try await cluster.resource("configmaps")
            var keys: [String] = []
            try await cluster.client.listAll(configmaps, pageSize: pageSize) { page in
                keys += page.map { "\($0.namespace ?? "")/\($0.name)" }
            }
            #expect(keys.count == cluster.server.objectCount(resource: "configmaps"))
            #expect(Set(keys).count == keys.count)
            #expect(keys == keys.sorted())
            #expect(keys.count > 0)
        }
    }

    @Test("an expired continue token (410) restarts the list without repeating or losing objects")
    func expiredContinue() async throws {
        try await SimulatedCluster.with(synthetic: SyntheticCluster.Options(namespaces: 3, objectsPerNamespace: 30)) {
            cluster in
            let configmaps = try await cluster.resource("configmaps")
            var keys: [String] = []
            var pages = 0
            try await cluster.client.listAll(configmaps, pageSize: 5) { page in
                pages += 1
                if pages == 2 {
                    // A write, then a compaction past it: every continue token issued before expires. The new
                    // object sorts last, so the restarted list still reaches it.
                    _ = try cluster.server.create([
                        "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "zzz-late"],
                    ])
                    _ = try cluster.server.create([
                        "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "late", "namespace": "zzz-late"],
                    ])
                    cluster.server.compact()
                }
                keys += page.map { "\($0.namespace ?? "")/\($0.name)" }
            }
            #expect(cluster.server.requestCount(status: 410) >= 1)
            #expect(keys.count == cluster.server.objectCount(resource: "configmaps"))
            #expect(Set(keys).count == keys.count)
        }
    }

    @Test("429 is retried after Retry-After and 5xx with backoff for reads; a failing write is not repeated")
    func retries() async throws {
        try await SimulatedCluster.with { cluster in
            let configmaps = try await cluster.resource("configmaps")
            cluster.server.addFault(.throttle(count: 2, retryAfterSeconds: 0, verb: "list"))
            _ = try await cluster.client.list(configmaps, namespace: "default")
            #expect(cluster.server.requestCount(status: 429) == 2)

            cluster.server.addFault(.error(503, count: 2, verb: "list"))
            _ = try await cluster.client.list(configmaps, namespace: "default")
            #expect(cluster.server.requestCount(status: 503) == 2)

            cluster.server.addFault(.error(500, count: 1, verb: "create"))
            let failed = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.create(
                    configmaps, namespace: "default", json: Array(#"{"metadata":{"name":"once"}}"#.utf8))
            }
            #expect(failed?.code == 500)
            #expect(cluster.server.requestCount(method: "POST") == 1)

            cluster.server.addFault(.error(503, count: 10, verb: "list"))
            let exhausted = await #expect(throws: KubeAPIError.self) { try await cluster.client.list(configmaps) }
            #expect(exhausted?.code == 503)
        }
    }

    @Test("a wrong token gets 401 and a read-only one 403 on writes, with a hint")
    func auth() async throws {
        try await SimulatedCluster.with(token: "wrong") { cluster in
            let error = await #expect(throws: KubeAPIError.self) { try await cluster.client.discover() }
            #expect(error?.code == 401)
            #expect(error?.description.contains("credentials were rejected") == true)
        }
        try await SimulatedCluster.with(token: "reader-token") { cluster in
            let configmaps = try await cluster.resource("configmaps")
            _ = try await cluster.client.list(configmaps)
            let error = await #expect(throws: KubeAPIError.self) {
                try await cluster.client.create(
                    configmaps, namespace: "default", json: Array(#"{"metadata":{"name":"x"}}"#.utf8))
            }
            #expect(error?.code == 403 && error?.reason == "Forbidden")
        }
    }

    @Test("an unreachable server is a connection error naming it")
    func unreachable() async throws {
        let client = KubeClient(
            configuration: ClusterConfiguration(server: "http://127.0.0.1:1"),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        let error = await #expect(throws: KubeConnectionError.self) { try await client.discover() }
        #expect(error?.description.contains("http://127.0.0.1:1") == true)
    }

    @Test("watch streams ADDED, MODIFIED and DELETED for changes made after it starts")
    func watch() async throws {
        try await SimulatedCluster.with { cluster in
            let configmaps = try await cluster.resource("configmaps")
            let start = try await cluster.client.list(configmaps, namespace: "default")
            let events = try await cluster.client.watch(
                configmaps, namespace: "default", resourceVersion: start.resourceVersion)
            try await cluster.client.create(
                configmaps, namespace: "default", json: Array(#"{"metadata":{"name":"w"}}"#.utf8))
            try await cluster.client.mergePatch(
                configmaps, namespace: "default", name: "w", patch: Array(#"{"data":{"k":"v"}}"#.utf8))
            try await cluster.client.delete(configmaps, namespace: "default", name: "w")
            var seen: [String] = []
            for try await event in events {
                seen.append("\(event.type.rawValue) \(event.object.name)")
                if seen.count == 3 { break }
            }
            #expect(seen == ["ADDED w", "MODIFIED w", "DELETED w"])
        }
    }
}
