import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import TestSupport
import Testing

@testable import Restorer

/// Two served clusters and a store: back up A, restore into B.
struct Migration: Sendable {
    let source: KubeSimServer
    let target: KubeSimServer
    let sourceClient: KubeClient
    let targetClient: KubeClient
    let repository: Repository
    let manifest: ResourceManifest

    static func with(
        prepare: (KubeClient) async throws -> Void = { _ in }, _ body: (Migration) async throws -> Void
    ) async throws {
        let temp = try TemporaryDirectory("migration")
        defer { temp.remove() }
        let source = try await KubeSimServer.start(
            KubeSimConfiguration(synthetic: SyntheticCluster.Options(namespaces: 3, objectsPerNamespace: 40)))
        let target = try await KubeSimServer.start(KubeSimConfiguration())
        let sourceClient = KubeClient(configuration: ClusterConfiguration(server: source.baseURL))
        let targetClient = KubeClient(configuration: ClusterConfiguration(server: target.baseURL))
        let repository = try await Repository.openOrCreate(
            try LocalDirectoryStore(root: temp.sub("store"), create: true))
        do {
            try await prepare(sourceClient)
            let (manifest, _) = try await ResourceCollector(client: sourceClient, repository: repository)
                .collect(name: "migrate", filter: ResourceFilter())
            try await body(
                Migration(
                    source: source, target: target, sourceClient: sourceClient, targetClient: targetClient,
                    repository: repository, manifest: manifest))
        } catch {
            try? await source.shutdown()
            try? await target.shutdown()
            throw error
        }
        try await source.shutdown()
        try await target.shutdown()
    }

    static let names = RestoreNames(backup: "migrate", restore: "migrate-restore-1")

    func restore(names: RestoreNames? = Migration.names, _ configure: (inout RestoreOptions) -> Void = { _ in })
        async throws -> RestoreResult
    {
        var options = RestoreOptions()
        configure(&options)
        return try await ResourceRestorer(client: targetClient, reader: ResourceReader(repository: repository))
            .restore(manifest, options: options, names: names)
    }

    /// Every object of the source cluster as Velero would restore it (`VeleroExpectation`), keyed
    /// "resource ns/name".
    func expected(labels: [String: String] = Migration.veleroLabels) async throws -> [String: NSDictionary] {
        var accounts = Set<String>()
        var sources: [(APIResource, KubeObject)] = []
        for stream in manifest.streams {
            try await sourceClient.listAll(stream.resource) { page in sources += page.map { (stream.resource, $0) } }
        }
        for (resource, object) in sources where resource.name == "serviceaccounts" {
            accounts.insert("\(object.namespace ?? "")/\(object.name)")
        }
        var result: [String: NSDictionary] = [:]
        for (resource, object) in sources {
            let source = try #require(try JSONSerialization.jsonObject(with: Data(object.json)) as? [String: Any])
            guard
                let restored = VeleroExpectation.restored(
                    source, resource: resource, labels: labels, serviceAccounts: accounts)
            else { continue }
            result["\(resource.qualifiedName) \(object.namespace ?? "")/\(object.name)"] = NSDictionary(
                dictionary: restored)
        }
        return result
    }

    static var veleroLabels: [String: String] {
        ["velero.io/backup-name": names.backup, "velero.io/restore-name": names.restore]
    }

    /// The object as the target serves it, without what the target's API server sets on every object.
    func actual(_ key: String) async throws -> NSDictionary? {
        let parts = key.split(separator: " ", maxSplits: 1)
        let resource = manifest.streams.first { $0.resource.qualifiedName == parts[0] }!.resource
        let path = parts[1].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let object = try await targetClient.get(resource, namespace: path[0].isEmpty ? nil : path[0], name: path[1])
        var json = try #require(try JSONSerialization.jsonObject(with: Data(object.json)) as? [String: Any])
        var metadata = json["metadata"] as? [String: Any] ?? [:]
        for field in ["uid", "resourceVersion", "creationTimestamp", "generation"] { metadata[field] = nil }
        json["metadata"] = metadata
        // Status the target's server sets itself: a namespace's phase, a CRD's acceptance.
        if resource.name == "namespaces" || resource.name == "customresourcedefinitions" { json["status"] = nil }
        return NSDictionary(dictionary: json)
    }
}

/// What Velero does to an object it restores, written out here independently of `ObjectTransform`: nil when the
/// object is not restored.
enum VeleroExpectation {
    static func restored(
        _ source: [String: Any], resource: APIResource, labels: [String: String], serviceAccounts: Set<String>
    ) -> [String: Any]? {
        let neverRestored = [
            "nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io",
            "resticrepositories.velero.io", "backuprepositories.velero.io", "csinodes.storage.k8s.io",
            "volumeattachments.storage.k8s.io", "componentstatuses",
        ]
        if neverRestored.contains(resource.qualifiedName) { return nil }
        var object = source
        let status = object["status"] as? [String: Any] ?? [:]
        if resource.qualifiedName == "pods", ["Succeeded", "Failed"].contains(status["phase"] as? String) {
            return nil
        }
        if resource.qualifiedName == "jobs.batch",
            status["completionTime"] != nil
                || (status["conditions"] as? [[String: Any]] ?? []).contains(where: {
                    ["Complete", "Failed"].contains($0["type"] as? String) && $0["status"] as? String == "True"
                })
        {
            return nil
        }
        var metadata = object["metadata"] as! [String: Any]
        for field in [
            "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "ownerReferences",
            "selfLink", "generateName",
        ] {
            metadata[field] = nil
        }
        let namespace = metadata["namespace"] as? String ?? ""
        let name = metadata["name"] as! String
        metadata["labels"] = (metadata["labels"] as? [String: Any] ?? [:]).merging(labels) { $1 }
        object["status"] = nil
        var spec = object["spec"] as? [String: Any]
        switch resource.qualifiedName {
        case "services":
            if spec?["clusterIP"] as? String != "None" {
                spec?["clusterIP"] = nil
                spec?["clusterIPs"] = nil
            }
            let explicit =
                (metadata["annotations"] as? [String: Any])?[
                    "kubectl.kubernetes.io/last-applied-configuration"] as? String ?? ""
            let ports = spec?["ports"] as? [[String: Any]]
            spec?["ports"] = ports?.map { port in
                var port = port
                if let nodePort = port["nodePort"] as? Int, !explicit.contains("\"nodePort\":\(nodePort)") {
                    port["nodePort"] = nil
                }
                return port
            }
        case "pods":
            spec?["nodeName"] = nil
            spec?["priority"] = nil
            let account = spec?["serviceAccountName"] as? String ?? ""
            func token(_ volumeName: Any?) -> Bool {
                let text = volumeName as? String ?? ""
                return text.hasPrefix(account + "-token-") || text.hasPrefix("kube-api-access-")
            }
            let volumes = (spec?["volumes"] as? [[String: Any]] ?? []).filter { !token($0["name"]) }
            spec?["volumes"] = volumes.isEmpty ? nil : volumes
            for field in ["containers", "initContainers"] {
                let containers = spec?[field] as? [[String: Any]]
                spec?[field] = containers?.map { container in
                    var container = container
                    let mounts = (container["volumeMounts"] as? [[String: Any]] ?? []).filter { !token($0["name"]) }
                    container["volumeMounts"] = mounts.isEmpty ? nil : mounts
                    return container
                }
            }
        case "jobs.batch":
            var selector = spec?["selector"] as? [String: Any] ?? [:]
            var matchLabels = selector["matchLabels"] as? [String: Any] ?? [:]
            var template = spec?["template"] as? [String: Any] ?? [:]
            var templateMetadata = template["metadata"] as? [String: Any] ?? [:]
            var podLabels = templateMetadata["labels"] as? [String: Any] ?? [:]
            for label in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
                matchLabels[label] = nil
                podLabels[label] = nil
            }
            selector["matchLabels"] = matchLabels
            templateMetadata["labels"] = podLabels
            template["metadata"] = templateMetadata
            spec?["selector"] = selector
            spec?["template"] = template
        case "serviceaccounts":
            let secrets = (object["secrets"] as? [[String: Any]] ?? []).filter {
                !($0["name"] as? String ?? "").hasPrefix(name + "-token-")
            }
            object["secrets"] = secrets.isEmpty ? nil : secrets
        case "secrets" where object["type"] as? String == "kubernetes.io/service-account-token":
            if serviceAccounts.contains(where: {
                $0.hasPrefix(namespace + "/") && name.hasPrefix($0.dropFirst(namespace.count + 1) + "-token-")
            }) {
                return nil
            }
            var annotations = metadata["annotations"] as? [String: Any] ?? [:]
            annotations["kubernetes.io/service-account.uid"] = nil
            metadata["annotations"] = annotations.isEmpty ? nil : annotations
            var data = object["data"] as? [String: Any] ?? [:]
            data["token"] = nil
            data["ca.crt"] = nil
            object["data"] = data
        case "persistentvolumeclaims":
            var annotations = metadata["annotations"] as? [String: Any] ?? [:]
            for key in [
                "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
                "volume.kubernetes.io/selected-node",
            ] {
                annotations[key] = nil
            }
            metadata["annotations"] = annotations.isEmpty ? nil : annotations
        case "persistentvolumes":
            var claim = spec?["claimRef"] as? [String: Any]
            claim?["uid"] = nil
            claim?["resourceVersion"] = nil
            spec?["claimRef"] = claim
        default: break
        }
        object["spec"] = spec
        object["metadata"] = metadata
        return object
    }

    /// Objects that exercise every rule, for the source cluster.
    static let fixtures: [(resource: String, namespace: String?, json: String)] = [
        ("namespaces", nil, #"{"metadata":{"name":"fidelity"}}"#),
        (
            "serviceaccounts", "fidelity",
            #"{"metadata":{"name":"builder"},"secrets":[{"name":"builder-token-abcde"},{"name":"registry"}]}"#
        ),
        (
            "secrets", "fidelity",
            #"{"metadata":{"name":"builder-token-abcde","annotations":{"kubernetes.io/service-account.name":"builder","kubernetes.io/service-account.uid":"u1"}},"type":"kubernetes.io/service-account-token","data":{"token":"dA==","ca.crt":"Yw=="}}"#
        ),
        (
            "secrets", "fidelity",
            #"{"metadata":{"name":"ghost-token","annotations":{"kubernetes.io/service-account.name":"ghost","kubernetes.io/service-account.uid":"u2"}},"type":"kubernetes.io/service-account-token","data":{"token":"dA==","ca.crt":"Yw==","namespace":"Zg=="}}"#
        ),
        (
            "pods", "fidelity",
            #"{"metadata":{"name":"web","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"r1"}]},"spec":{"nodeName":"node-3","priority":100000,"priorityClassName":"high-priority","serviceAccountName":"builder","volumes":[{"name":"data","emptyDir":{}},{"name":"builder-token-abcde","secret":{"secretName":"builder-token-abcde"}},{"name":"kube-api-access-x1y2z","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}],"containers":[{"name":"app","image":"web:1","volumeMounts":[{"name":"data","mountPath":"/d"},{"name":"kube-api-access-x1y2z","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],"initContainers":[{"name":"init","image":"init:1","volumeMounts":[{"name":"builder-token-abcde","mountPath":"/t"}]}]},"status":{"phase":"Running","podIP":"10.1.2.3"}}"#
        ),
        (
            "jobs.batch", "fidelity",
            #"{"metadata":{"name":"once"},"spec":{"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"c1","controller-uid":"c1"}},"template":{"metadata":{"labels":{"batch.kubernetes.io/controller-uid":"c1","controller-uid":"c1","job-name":"once"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"job:1"}]}}},"status":{"active":1}}"#
        ),
        (
            "services", "fidelity",
            #"{"metadata":{"name":"front"},"spec":{"type":"NodePort","clusterIP":"10.96.0.9","clusterIPs":["10.96.0.9"],"ports":[{"port":80,"nodePort":30080}]}}"#
        ),
        (
            "persistentvolumeclaims", "fidelity",
            #"{"metadata":{"name":"claim","annotations":{"pv.kubernetes.io/bind-completed":"yes","volume.kubernetes.io/selected-node":"node-3","keep":"me"}},"spec":{"storageClassName":"standard","volumeName":"pv-1"},"status":{"phase":"Bound"}}"#
        ),
    ]

    static func create(_ client: KubeClient) async throws {
        let resources = try await client.discover()
        for fixture in fixtures {
            let resource = resources.first { $0.qualifiedName == fixture.resource }!
            try await client.create(resource, namespace: fixture.namespace, json: Array(fixture.json.utf8))
        }
    }
}

@Suite("Restoring into another cluster")
struct MigrationTests {
    @Test("a backup of cluster A restores into an empty cluster B: every object equal modulo the stripped fields")
    func migrate() async throws {
        try await Migration.with(prepare: VeleroExpectation.create) { migration in
            let result = try await migration.restore()
            #expect(result.phase == .completed, "\(result.errors.prefix(3))")
            let expected = try await migration.expected()
            #expect(expected.count > 100)
            // What the target already had (kube-system…) was left as it was, without restore labels.
            let existed = Set(
                result.items.filter { $0.outcome == .skippedExists }.map {
                    "\($0.resource) \($0.namespace ?? "")/\($0.name)"
                })
            #expect(existed.count < 10)
            let unlabelled = try await migration.expected(labels: [:])
            for (key, object) in expected {
                #expect(try await migration.actual(key) == (existed.contains(key) ? unlabelled[key] : object), "\(key)")
            }
            // The fixtures that exercise each rule are there (or, for the auto-created token, not).
            for key in [
                "pods fidelity/web", "jobs.batch fidelity/once", "serviceaccounts fidelity/builder",
                "secrets fidelity/ghost-token", "services fidelity/front", "persistentvolumeclaims fidelity/claim",
            ] {
                #expect(expected[key] != nil, "\(key)")
            }
            #expect(expected["secrets fidelity/builder-token-abcde"] == nil)
            #expect(result.items.contains { $0.name == "builder-token-abcde" && $0.outcome == .skipped })
            #expect(result.count(.created) + result.count(.skippedExists) == expected.count)
            #expect(
                migration.target.objectCount(resource: "widgets", group: "example.com")
                    == migration.source.objectCount(resource: "widgets", group: "example.com"))

            // Again: everything exists and matches, nothing is written, no warnings.
            let again = try await migration.restore()
            #expect(again.count(.created) == 0 && again.warnings.isEmpty)
            #expect(again.count(.skippedExists) == expected.count)
        }
    }

    @Test("namespace mappings move objects and the references that name a namespace")
    func mapping() async throws {
        try await Migration.with { migration in
            let source = try #require(migration.source.generated?.namespaceNames.first)
            let result = try await migration.restore {
                $0.includeNamespaces = [source]
                $0.namespaceMappings = [source: "copy"]
            }
            #expect(result.phase == .completed, "\(result.errors.prefix(3))")
            let restorable = try await migration.expected().keys.filter { $0.contains(" \(source)/") }
            let skipped = result.items.filter { $0.outcome == .skipped }
            #expect(restorable.count > 0)
            #expect(migration.target.objectCount(namespace: "copy") == restorable.count)
            let outside = result.items.filter { $0.outcome == .created && $0.namespace != "copy" }.map(\.resource)
            #expect(
                Set(outside).isSubset(of: ["namespaces", "customresourcedefinitions.apiextensions.k8s.io"]),
                "\(outside); skipped: \(skipped)")
            #expect(outside.filter { $0 == "namespaces" }.count == 1)
            #expect(migration.target.objectCount(namespace: source) == 0)
        }
    }

    @Test("existing objects: 'none' leaves them and warns when they differ, 'update' patches them to the backup")
    func existing() async throws {
        try await Migration.with { migration in
            _ = try await migration.restore()
            let key = try #require(try await migration.expected().keys.first { $0.hasPrefix("configmaps ") })
            let parts = key.split(separator: " ")[1].split(separator: "/").map(String.init)
            let configmaps = migration.manifest.streams.first { $0.resource.name == "configmaps" }!.resource
            try await migration.targetClient.mergePatch(
                configmaps, namespace: parts[0], name: parts[1], patch: Array(#"{"data":{"drift":"yes"}}"#.utf8))

            let left = try await migration.restore { $0.includeResources = ["configmaps"] }
            #expect(left.warnings.count == 1 && left.warnings[0].contains(parts[1]))
            #expect(try await migration.actual(key) != (try await migration.expected())[key])

            let updated = try await migration.restore {
                $0.includeResources = ["configmaps"]
                $0.existingResourcePolicy = .update
            }
            #expect(updated.count(.updated) == 1)
            #expect(try await migration.actual(key) == (try await migration.expected())[key])
        }
    }

    @Test("one failing object does not stop the others: the restore ends PartiallyFailed with the reason")
    func partialFailure() async throws {
        try await Migration.with { migration in
            let namespace = try #require(migration.source.generated?.namespaceNames.first)
            migration.target.addFault(
                .error(500, count: 1, pathPrefix: "/api/v1/namespaces/\(namespace)/configmaps", verb: "create"))
            let result = try await migration.restore()
            #expect(result.phase == .partiallyFailed)
            #expect(result.count(.failed) == 1)
            #expect(result.errors.first?.contains("500") == true)
            #expect(result.count(.created) > 100)
        }
    }

    @Test("a target namespace being deleted is waited for and created again; one that stays fails its objects")
    func terminatingNamespace() async throws {
        try await Migration.with { migration in
            let namespace = try #require(migration.source.generated?.namespaceNames.first)
            let namespaces = try #require(try await migration.targetClient.discover().first { $0.name == "namespaces" })
            let held = #"{"metadata":{"name":"\#(namespace)","finalizers":["example.com/hold"]}}"#
            try await migration.targetClient.create(namespaces, namespace: nil, json: Array(held.utf8))
            try await migration.targetClient.delete(namespaces, namespace: nil, name: namespace)

            // Released while the restore waits: the restore creates the namespace and everything in it.
            let restore = Task {
                try await migration.restore {
                    $0.includeNamespaces = [namespace]
                    $0.namespaceTerminatingTimeout = 20
                }
            }
            try await Task.sleep(for: .milliseconds(400))
            #expect(migration.target.objectCount(namespace: namespace) == 0)
            try await migration.targetClient.mergePatch(
                namespaces, namespace: nil, name: namespace, patch: Array(#"{"metadata":{"finalizers":null}}"#.utf8))
            let result = try await restore.value
            #expect(result.phase == .completed, "\(result.errors.prefix(3))")
            #expect(result.count(.failed) == 0)
            let restored = try await migration.targetClient.get(namespaces, namespace: nil, name: namespace)
            #expect(restored.metadata.deletionTimestamp == nil)
            let inside = result.items.filter { $0.namespace == namespace && $0.outcome == .created }
            #expect(inside.count > 10 && migration.target.objectCount(namespace: namespace) == inside.count)

            // Never released within the timeout: its objects fail with the reason, nothing else is held up.
            let other = try #require(migration.source.generated?.namespaceNames.last)
            try await migration.targetClient.create(
                namespaces, namespace: nil,
                json: Array(#"{"metadata":{"name":"\#(other)","finalizers":["example.com/hold"]}}"#.utf8))
            try await migration.targetClient.delete(namespaces, namespace: nil, name: other)
            let stuck = try await migration.restore {
                $0.includeNamespaces = [other]
                $0.namespaceTerminatingTimeout = 0.3
            }
            #expect(stuck.phase != .completed)
            #expect(stuck.count(.failed) > 10)
            #expect(
                stuck.items.filter { $0.outcome == .failed }.allSatisfy { $0.namespace == other || $0.name == other })
            #expect(
                stuck.errors.allSatisfy { $0.contains("namespace \(other) is still terminating") },
                "\(stuck.errors.prefix(2))")
        }
    }

    @Test("bad restore input: an unknown resource name")
    func badInput() async throws {
        try await Migration.with { migration in
            await #expect(throws: RestoreError.unknownResource("flux-capacitors")) {
                _ = try await migration.restore { $0.includeResources = ["flux-capacitors"] }
            }
        }
    }
}
