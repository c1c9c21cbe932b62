import HTTPTransport
import Testing

@testable import KubeSim

@Suite("Synthetic cluster resource types")
struct SyntheticKindsTests {
    static let namespacedKeys = [
        "configmaps", "secrets", "pods", "services", "endpoints", "serviceaccounts", "persistentvolumeclaims",
        "limitranges", "resourcequotas", "deployments.apps", "replicasets.apps", "statefulsets.apps",
        "daemonsets.apps", "jobs.batch", "cronjobs.batch", "roles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io", "ingresses.networking.k8s.io", "networkpolicies.networking.k8s.io",
        "poddisruptionbudgets.policy", "widgets.example.com", "gizmos.example.com", "sprockets.tools.example.org",
        "backups.db.example.net",
    ]
    static let clusterKeys = [
        "namespaces", "persistentvolumes", "storageclasses.storage.k8s.io", "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io", "priorityclasses.scheduling.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
    ]

    static func types() -> [String: ResourceType] {
        Dictionary(
            (ResourceType.builtIn + SyntheticCluster.customTypes).map { ($0.key, $0) }, uniquingKeysWith: { $1 })
    }

    @Test("a generated cluster spans 31 resource types, each in discovery, listed in full and PUT back unchanged")
    func everyTypeServed() async throws {
        let options = SyntheticCluster.Options(namespaces: 10, objectsPerNamespace: 100, seed: 5)
        let configuration = KubeSimConfiguration(createDefaultNamespaces: false, synthetic: options)
        try await SimHarness.with(configuration) { sim in
            let summary = try #require(sim.server.generated)
            let present = Set(summary.counts.filter { $0.value > 0 }.keys)
            #expect(present == Set(Self.namespacedKeys + Self.clusterKeys))
            #expect(present.count >= 30)
            let types = Self.types()
            for key in present.sorted() {
                let type = try #require(types[key], "\(key)")
                let base = type.group.isEmpty ? "/api/v1" : "/apis/\(type.group)/\(type.preferredVersion)"
                let discovery = try await sim.getJSON(base)
                let entry = discovery["resources"]?.arrayValue?.first { $0["name"] == .string(type.resource) }
                #expect(entry?["kind"] == .string(type.kind), "\(key) in \(base)")
                #expect(entry?["namespaced"] == .bool(type.namespaced), "\(key)")

                let list = try await sim.getJSON("\(base)/\(type.resource)")
                #expect(list["kind"] == .string(type.listKind))
                #expect(list.itemNames.count == summary.counts[key], "\(key)")
                let item = try #require(list["items"]?.arrayValue?.first, "\(key)")
                let name = item["metadata"]?["name"]?.stringValue ?? ""
                let namespace = item["metadata"]?["namespace"]?.stringValue
                let path = base + (namespace.map { "/namespaces/\($0)" } ?? "") + "/\(type.resource)/\(name)"
                let original = try await sim.getJSON(path)
                #expect(original["kind"] == .string(type.kind), "\(path)")
                let put = try await sim.put(path, original)
                #expect(put.status == 200, "\(path): \(put.text)")
                #expect(try put.json() == original, "an unchanged PUT of \(path) is a no-op")
            }
            let groups = try await sim.getJSON("/apis")["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            for group in ["example.com", "tools.example.org", "db.example.net"] {
                #expect(groups?.contains(group) == true, "group \(group) is discovered")
            }
            let sprockets = try await sim.getJSON("/apis/tools.example.org/v1beta1/sprockets")
            #expect(sprockets.itemNames.count == summary.counts["sprockets.tools.example.org"])
        }
    }

    @Test("every body is canonical JSON whose indexed labels, fields and resourceVersion match it; sizes in bounds")
    func canonicalBodies() throws {
        let options = SyntheticCluster.Options(namespaces: 6, objectsPerNamespace: 150, seed: 9)
        let first: UInt64 = 1000
        let (batches, summary) = SyntheticCluster.generate(options, firstVersion: first)
        var versions: [UInt64] = []
        for (type, objects) in batches {
            #expect(objects.count == summary.counts[type.key], "\(type.key)")
            for object in objects {
                let parsed = try JSONValue.parse(object.body)
                #expect(parsed.encoded() == object.body, "\(type.key) \(object.key) has sorted keys, compact")
                let again = StoredObject.encode(parsed, type: type)
                #expect(again.labels == object.labels && again.fields == object.fields, "\(type.key) \(object.key)")
                #expect(Array(object.body[object.versionRange]) == Array(String(object.resourceVersion).utf8))
                #expect(parsed["metadata"]?["uid"] == .string(object.uid))
                versions.append(object.resourceVersion)
                guard type.namespaced else { continue }
                #expect(
                    object.namespace.hasPrefix("ns-") && parsed["metadata"]?["namespace"] == .string(object.namespace))
                #expect(object.labels["app"] != nil && object.labels["tier"] != nil, "\(type.key) \(object.key)")
                #expect(
                    (options.minimumObjectBytes - 4...options.maximumObjectBytes).contains(object.body.count),
                    "\(type.key) \(object.key): \(object.body.count) bytes")
                for problem in type.nameRule.problems(object.name) { Issue.record("\(object.name): \(problem)") }
            }
        }
        #expect(versions.sorted() == Array(first..<(first + UInt64(SyntheticCluster.objectCount(options)))))
        #expect(summary.total == versions.count)
        #expect(summary.bytes == batches.reduce(0) { $0 + $1.1.reduce(0) { $0 + $1.body.count } })
    }

    @Test("config maps, secrets and pods are the most common kinds; every other kind still appears")
    func weights() {
        let options = SyntheticCluster.Options(namespaces: 20, objectsPerNamespace: 200, seed: 3, clusterScoped: false)
        let (_, summary) = SyntheticCluster.generate(options, firstVersion: 1)
        let ranked = Self.namespacedKeys.sorted { (summary.counts[$0] ?? 0) > (summary.counts[$1] ?? 0) }
        #expect(Set(ranked.prefix(3)) == ["configmaps", "secrets", "pods"], "\(summary.counts)")
        #expect(ranked.allSatisfy { (summary.counts[$0] ?? 0) > 20 }, "\(summary.counts)")
        #expect(Self.namespacedKeys.reduce(0) { $0 + (summary.counts[$1] ?? 0) } == 4000)
        #expect(summary.total == 4000 + 20 + SyntheticCluster.customTypes.count)
    }

    @Test("every kind's bytes follow from the seed alone")
    func determinism() {
        func bodies(seed: UInt64) -> [[UInt8]] {
            let options = SyntheticCluster.Options(namespaces: 3, objectsPerNamespace: 120, seed: seed)
            return SyntheticCluster.generate(options, firstVersion: 1).batches.flatMap { $0.1.map(\.body) }
        }
        let first = bodies(seed: 21)
        #expect(bodies(seed: 21) == first)
        #expect(bodies(seed: 22) != first)
    }
}
