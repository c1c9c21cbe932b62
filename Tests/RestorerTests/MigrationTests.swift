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

    static func with(_ body: (Migration) async throws -> Void) async throws {
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

    func restore(_ configure: (inout RestoreOptions) -> Void = { _ in }) async throws -> RestoreResult {
        var options = RestoreOptions()
        configure(&options)
        return try await ResourceRestorer(client: targetClient, reader: ResourceReader(repository: repository))
            .restore(manifest, options: options)
    }

    /// Every restorable object of the backup, transformed, keyed "resource ns/name".
    func expected(_ transform: ObjectTransform = ObjectTransform()) async throws -> [String: NSDictionary] {
        var result: [String: NSDictionary] = [:]
        for stream in manifest.streams {
            for bytes in try await ResourceReader(repository: repository).objects(in: stream) {
                guard
                    case .restore(let json, let namespace, let name) = try transform.apply(
                        bytes, resource: stream.resource)
                else { continue }
                result["\(stream.resource.qualifiedName) \(namespace ?? "")/\(name)"] =
                    try JSONSerialization.jsonObject(with: Data(json)) as? NSDictionary
            }
        }
        return result
    }

    /// The object as the target serves it, put through the same transform (so server-set fields don't count).
    func actual(_ key: String, _ transform: ObjectTransform = ObjectTransform()) async throws -> NSDictionary? {
        let parts = key.split(separator: " ", maxSplits: 1)
        let resource = manifest.streams.first { $0.resource.qualifiedName == parts[0] }!.resource
        let path = parts[1].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let object = try await targetClient.get(resource, namespace: path[0].isEmpty ? nil : path[0], name: path[1])
        guard case .restore(let json, _, _) = try transform.apply(object.json, resource: resource) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(json)) as? NSDictionary
    }
}

@Suite("Restoring into another cluster")
struct MigrationTests {
    @Test("a backup of cluster A restores into an empty cluster B: every object equal modulo the stripped fields")
    func migrate() async throws {
        try await Migration.with { migration in
            let result = try await migration.restore()
            #expect(result.phase == .completed, "\(result.errors.prefix(3))")
            let expected = try await migration.expected()
            #expect(expected.count > 100)
            for (key, object) in expected {
                #expect(try await migration.actual(key) == object, "\(key)")
            }
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
            let restorable = try await migration.expected(ObjectTransform(namespaceMappings: [source: "copy"]))
                .keys.filter { $0.contains(" copy/") }
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

    @Test("bad restore input: an unknown resource name")
    func badInput() async throws {
        try await Migration.with { migration in
            await #expect(throws: RestoreError.unknownResource("flux-capacitors")) {
                _ = try await migration.restore { $0.includeResources = ["flux-capacitors"] }
            }
        }
    }
}
