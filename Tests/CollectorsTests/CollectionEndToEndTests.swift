import BackupModel
import ChunkStore
import Foundation
import KubeClient
import KubeSim
import Testing

@testable import Collectors

@Suite("Collecting a served cluster")
struct CollectionEndToEndTests {
    @Test("a full collection holds exactly what kubectl lists, object for object")
    func matchesKubectl() async throws {
        try await CollectionHarness.with { harness in
            let (manifest, summary) = try await harness.collect("full")
            let stored = try await harness.objects(in: manifest)
            #expect(summary.objects == stored.count)
            #expect(stored.count >= 200)
            try harness.server.writeKubeconfig(path: harness.temp.sub("kubeconfig"))
            guard Kubectl.path != nil else {
                Issue.record("kubectl is not installed; the kubectl comparison was skipped")
                return
            }
            for resource in [
                "configmaps", "secrets", "deployments.apps", "widgets.example.com", "persistentvolumes", "namespaces",
            ] {
                let list = try #require(
                    try Kubectl.json(["get", resource, "-A", "-o", "json"], kubeconfig: harness.temp.sub("kubeconfig")))
                let items = try #require(list["items"] as? [NSDictionary])
                let fromKubectl = Dictionary(
                    uniqueKeysWithValues: items.map { item in
                        let metadata = item["metadata"] as! NSDictionary
                        return (
                            "\(resource) \(metadata["namespace"] as? String ?? "")/\(metadata["name"] as! String)", item
                        )
                    })
                let ours = stored.filter { $0.key.hasPrefix(resource + " ") }
                #expect(Set(ours.keys) == Set(fromKubectl.keys), "\(resource)")
                for (key, object) in fromKubectl { #expect(ours[key] == object, "\(key) differs from kubectl's") }
            }
        }
    }

    @Test("stored objects are the server's bytes: each equals a GET of the same object")
    func byteFaithful() async throws {
        try await CollectionHarness.with(namespaces: 2, objectsPerNamespace: 20) { harness in
            let (manifest, _) = try await harness.collect("bytes")
            let reader = ResourceReader(repository: harness.repository)
            for stream in manifest.streams where stream.resource.namespaced {
                for location in stream.objects.prefix(5) {
                    let bytes = try await reader.object(location, in: stream)
                    let fetched = try await harness.client.get(
                        stream.resource, namespace: location.namespace, name: location.name)
                    let ours = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
                    let theirs = try JSONSerialization.jsonObject(with: Data(fetched.json)) as? NSDictionary
                    #expect(ours != nil && ours == theirs, "\(stream.resource) \(location.name)")
                }
            }
        }
    }

    @Test("filters: one namespace, chosen types, a selector, the exclude label; CRDs and claimed PVs come along")
    func filtered() async throws {
        try await CollectionHarness.with { harness in
            let namespace = try #require(harness.server.generated?.namespaceNames.first)
            let configmaps = try await harness.resource("configmaps")
            let claims = try await harness.resource("persistentvolumeclaims")
            let volumes = try await harness.resource("persistentvolumes")
            try await harness.client.create(
                volumes, namespace: nil,
                json: Array(
                    #"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-claimed"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/data"}}}"#
                        .utf8))
            try await harness.client.create(
                claims, namespace: namespace,
                json: Array(
                    #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"claim","labels":{"keep":"yes"}},"spec":{"volumeName":"pv-claimed","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#
                        .utf8))
            try await harness.client.create(
                configmaps, namespace: namespace,
                json: Array(#"{"metadata":{"name":"kept","labels":{"keep":"yes"}}}"#.utf8))
            try await harness.client.create(
                configmaps, namespace: namespace,
                json: Array(
                    #"{"metadata":{"name":"skipped","labels":{"keep":"yes","velero.io/exclude-from-backup":"true"}}}"#
                        .utf8))

            let (manifest, _) = try await harness.collect("filtered") {
                $0.includeNamespaces = [namespace, "no-such-namespace"]
                $0.includeResources = ["cm", "pvc", "widgets", "namespaces"]
                $0.orLabelSelectors = ["keep=yes", "tier=db"]
            }
            let keys = Set(try await harness.objects(in: manifest).keys)
            #expect(keys.contains("configmaps \(namespace)/kept"))
            #expect(!keys.contains("configmaps \(namespace)/skipped"))
            #expect(keys.contains("persistentvolumeclaims \(namespace)/claim"))
            #expect(keys.contains("persistentvolumes /pv-claimed"), "the PV of a backed-up claim is included")
            #expect(keys.filter { $0.hasPrefix("persistentvolumes ") }.count == 1)
            #expect(
                keys.allSatisfy {
                    !$0.contains("/") || $0.contains(" \(namespace)/") || $0.hasPrefix("persistentvolumes")
                        || $0.hasPrefix("customresourcedefinitions") || $0.hasPrefix("namespaces")
                })
            let widgets = keys.filter { $0.hasPrefix("widgets.example.com ") }
            if !widgets.isEmpty {
                #expect(
                    keys.contains("customresourcedefinitions.apiextensions.k8s.io /widgets.example.com"),
                    "the CRD of backed-up custom resources is included")
            }
            #expect(keys.contains("namespaces /\(namespace)"))
            #expect(keys.filter { $0.hasPrefix("namespaces ") }.count == 1)
            #expect(manifest.warnings == ["namespace 'no-such-namespace' does not exist in the cluster"])
        }
    }

    @Test("an unchanged cluster adds no chunks; changing 1% of objects adds at most 10% of the first backup's bytes")
    func incremental() async throws {
        try await CollectionHarness.with(namespaces: 10, objectsPerNamespace: 100) { harness in
            let (first, firstSummary) = try await harness.collect("first")
            let (_, unchanged) = try await harness.collect("second")
            #expect(unchanged.newChunks == 0)
            #expect(unchanged.newStoredBytes == 0)

            // Change every 100th object (labels on a mix of types), spread through the streams.
            var changed = 0
            for stream in first.streams where stream.resource.namespaced {
                for location in stream.objects.enumerated().filter({ $0.offset % 100 == 37 }).map(\.element) {
                    try await harness.client.mergePatch(
                        stream.resource, namespace: location.namespace, name: location.name,
                        patch: Array(#"{"metadata":{"labels":{"changed":"yes"}}}"#.utf8))
                    changed += 1
                }
            }
            #expect(changed >= first.objectCount / 100 - first.streams.count)
            let (_, third) = try await harness.collect("third")
            #expect(third.newChunks > 0)
            #expect(
                Double(third.newStoredBytes) <= 0.10 * Double(firstSummary.newStoredBytes),
                "\(third.newStoredBytes) new bytes after changing \(changed) objects; the first collection stored \(firstSummary.newStoredBytes)"
            )
        }
    }

    @Test("bad input: unknown resources, a duplicate name, an unreachable cluster")
    func badInput() async throws {
        try await CollectionHarness.with(namespaces: 1, objectsPerNamespace: 5) { harness in
            await #expect(throws: FilterError.unknownResource("gadgets", suggestion: nil)) {
                _ = try await harness.collect("x") { $0.includeResources = ["gadgets"] }
            }
            _ = try await harness.collect("once")
            await #expect(throws: CollectorError.self) { _ = try await harness.collect("once") }
            let unreachable = ResourceCollector(
                client: KubeClient(
                    configuration: ClusterConfiguration(server: "http://127.0.0.1:1"),
                    retry: .init(maxAttempts: 1)),
                repository: harness.repository)
            await #expect(throws: KubeConnectionError.self) {
                _ = try await unreachable.collect(name: "down", filter: ResourceFilter())
            }
        }
    }
}
