import BackupModel
import KubeClient
import Testing

@testable import Collectors

@Suite("Velero-compatible filters")
struct FilterTests {
    static let discovered: [APIResource] = [
        APIResource(
            group: "", version: "v1", name: "namespaces", singularName: "namespace", kind: "Namespace",
            namespaced: false, shortNames: ["ns"]),
        APIResource(
            group: "", version: "v1", name: "configmaps", singularName: "configmap", kind: "ConfigMap",
            namespaced: true, shortNames: ["cm"]),
        APIResource(
            group: "", version: "v1", name: "secrets", singularName: "secret", kind: "Secret", namespaced: true),
        APIResource(
            group: "", version: "v1", name: "persistentvolumes", singularName: "persistentvolume",
            kind: "PersistentVolume", namespaced: false, shortNames: ["pv"]),
        APIResource(group: "", version: "v1", name: "nodes", singularName: "node", kind: "Node", namespaced: false),
        APIResource(
            group: "apps", version: "v1", name: "deployments", singularName: "deployment", kind: "Deployment",
            namespaced: true, shortNames: ["deploy"]),
        APIResource(
            group: "storage.k8s.io", version: "v1", name: "storageclasses", singularName: "storageclass",
            kind: "StorageClass", namespaced: false, shortNames: ["sc"]),
        APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            singularName: "customresourcedefinition", kind: "CustomResourceDefinition", namespaced: false,
            shortNames: ["crd"]),
    ]
    static let namespaces = ["default", "prod-a", "prod-b", "dev"]

    func resolve(_ configure: (inout ResourceFilter) -> Void) throws -> ResourceSelection {
        var filter = ResourceFilter()
        configure(&filter)
        return try ResourceSelection.resolve(filter, discovered: Self.discovered, existingNamespaces: Self.namespaces)
    }

    @Test("by default every listable type except nodes is backed up, cluster-scoped included")
    func defaults() throws {
        let selection = try resolve { _ in }
        #expect(Set(selection.namespaced.map(\.name)) == ["configmaps", "secrets", "deployments"])
        #expect(
            Set(selection.clusterScoped.map(\.name)) == [
                "namespaces", "persistentvolumes", "storageclasses", "customresourcedefinitions",
            ])
        #expect(selection.namespaces == .all(excluding: []))
    }

    @Test("namespace globs select, exclusions remove, and a missing namespace is a warning")
    func namespaceGlobs() throws {
        let selection = try resolve {
            $0.includeNamespaces = ["prod-*", "ghost"]
            $0.excludeNamespaces = ["prod-b"]
        }
        #expect(selection.namespaces == .only(["prod-a"]))
        #expect(selection.warnings == ["namespace 'ghost' does not exist in the cluster"])
        // Restricted namespaces, includeClusterResources unset: only related cluster objects (PVs, CRDs).
        #expect(selection.relatedClusterResourcesOnly)
        #expect(
            Set(selection.clusterScoped.map(\.name)) == [
                "persistentvolumes", "customresourcedefinitions", "namespaces",
            ])
    }

    @Test(
        "resource names: short names, kinds and name.group all resolve; includeClusterResources=false drops cluster types"
    )
    func resourceNames() throws {
        let selection = try resolve {
            $0.includeResources = ["cm", "Deployment", "storageclasses.storage.k8s.io"]
            $0.includeClusterResources = false
        }
        #expect(Set(selection.namespaced.map(\.name)) == ["configmaps", "deployments"])
        #expect(selection.clusterScoped.map(\.name) == ["namespaces"])
    }

    @Test("new-style scoped filters")
    func scoped() throws {
        let selection = try resolve {
            $0.includeClusterScopedResources = ["storageclasses"]
            $0.excludeNamespaceScopedResources = ["secrets"]
        }
        #expect(Set(selection.namespaced.map(\.name)) == ["configmaps", "deployments"])
        #expect(Set(selection.clusterScoped.map(\.name)) == ["storageclasses", "namespaces"])
    }

    @Test("an unknown resource name is an error (Velero would silently match nothing)")
    func unknownResource() {
        let error = #expect(throws: FilterError.self) { _ = try resolve { $0.includeResources = ["configmapz"] } }
        #expect(error == .unknownResource("configmapz", suggestion: "configmaps"))
        #expect(error?.description.contains("did you mean 'configmaps'") == true)
    }
}

@Suite("Per-object selection")
struct ObjectSelectionTests {
    static func object(_ json: String) throws -> KubeObject {
        try KubeObject(json: Array(json.utf8), apiVersion: "v1", kind: "ConfigMap")
    }

    static let scope = TypeCollector.Scope(
        listNamespaces: nil, namespaceAllowed: { $0 != "excluded" }, names: nil, labelSelector: nil,
        orSelectors: [try! LabelSelector(parsing: "tier=db"), try! LabelSelector(parsing: "keep")])

    @Test(
        "objects being deleted, labelled exclude-from-backup, in excluded namespaces or matching no or-selector are skipped"
    )
    func skips() throws {
        #expect(
            TypeCollector.selected(
                try Self.object(#"{"metadata":{"name":"a","namespace":"n","labels":{"tier":"db"}}}"#), scope: Self.scope
            ))
        #expect(
            TypeCollector.selected(
                try Self.object(#"{"metadata":{"name":"a","namespace":"n","labels":{"keep":""}}}"#), scope: Self.scope))
        #expect(
            !TypeCollector.selected(
                try Self.object(
                    #"{"metadata":{"name":"a","namespace":"n","labels":{"tier":"db"},"deletionTimestamp":"2026-01-01T00:00:00Z"}}"#
                ), scope: Self.scope))
        #expect(
            !TypeCollector.selected(
                try Self.object(
                    #"{"metadata":{"name":"a","namespace":"n","labels":{"tier":"db","velero.io/exclude-from-backup":"true"}}}"#
                ), scope: Self.scope))
        #expect(
            !TypeCollector.selected(
                try Self.object(#"{"metadata":{"name":"a","namespace":"excluded","labels":{"tier":"db"}}}"#),
                scope: Self.scope))
        #expect(
            !TypeCollector.selected(
                try Self.object(#"{"metadata":{"name":"a","namespace":"n","labels":{"tier":"web"}}}"#),
                scope: Self.scope))
    }

    @Test("stream boundaries depend only on object identity and size limits, never on content")
    func boundaries() {
        #expect(!ObjectBoundary.cutsAfter(namespace: "n", name: "x", pending: ObjectBoundary.minimum - 1))
        #expect(ObjectBoundary.cutsAfter(namespace: "n", name: "x", pending: ObjectBoundary.maximum))
        let cuts = (0..<1000).filter {
            ObjectBoundary.cutsAfter(namespace: "ns", name: "object-\($0)", pending: ObjectBoundary.minimum)
        }
        #expect(
            (150...350).contains(cuts.count),
            "about one object in \(ObjectBoundary.divisor) ends a chunk: \(cuts.count)")
        // FNV-1a 64 of "namespace/name", against values computed independently (Python).
        #expect(ObjectBoundary.fnv1a("ns", "object-1") == 0xf393_7a3e_74f7_0b12)
        #expect(ObjectBoundary.fnv1a("", "cluster-admin") == 0xc955_e9c7_b776_0b9e)
    }
}
