import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import TestSupport

/// A generated cluster served by KubeSim, a client for it, and a fresh local store.
struct CollectionHarness: Sendable {
    let server: KubeSimServer
    let client: KubeClient
    let repository: Repository
    let temp: TemporaryDirectory

    static func with<T: Sendable>(
        namespaces: Int = 4, objectsPerNamespace: Int = 50, _ body: (CollectionHarness) async throws -> T
    ) async throws -> T {
        let server = try await KubeSimServer.start(
            KubeSimConfiguration(
                synthetic: SyntheticCluster.Options(namespaces: namespaces, objectsPerNamespace: objectsPerNamespace)))
        let temp = try TemporaryDirectory("collect")
        let harness = CollectionHarness(
            server: server,
            client: KubeClient(configuration: ClusterConfiguration(server: server.baseURL)),
            repository: try await Repository.openOrCreate(
                try LocalDirectoryStore(root: temp.sub("store"), create: true)),
            temp: temp)
        defer { temp.remove() }
        do {
            let result = try await body(harness)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    func collect(_ name: String, _ configure: (inout ResourceFilter) -> Void = { _ in }) async throws
        -> (ResourceManifest, CollectionSummary)
    {
        var filter = ResourceFilter()
        configure(&filter)
        return try await ResourceCollector(client: client, repository: repository).collect(name: name, filter: filter)
    }

    func resource(_ qualifiedName: String) async throws -> APIResource {
        try await client.discover().first { $0.qualifiedName == qualifiedName }!
    }

    /// Every object of a manifest as "resource ns/name" → parsed JSON.
    func objects(in manifest: ResourceManifest) async throws -> [String: NSDictionary] {
        var result: [String: NSDictionary] = [:]
        let reader = ResourceReader(repository: repository)
        for stream in manifest.streams {
            for (location, bytes) in zip(stream.objects, try await reader.objects(in: stream)) {
                let key = "\(stream.resource.qualifiedName) \(location.namespace ?? "")/\(location.name)"
                result[key] = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
            }
        }
        return result
    }
}

/// Runs kubectl against the server, or returns nil when kubectl is not installed.
enum Kubectl {
    static var path: String? {
        ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func json(_ arguments: [String], kubeconfig: String) throws -> NSDictionary? {
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--kubeconfig", kubeconfig] + arguments
        let output = Pipe()
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw KubectlFailed(description: "kubectl \(arguments.joined(separator: " ")) failed: \(errorText)")
        }
        return try JSONSerialization.jsonObject(with: data) as? NSDictionary
    }
}

struct KubectlFailed: Error, CustomStringConvertible {
    var description: String
}
