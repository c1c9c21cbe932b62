import BackupModel
import ChunkStore
import Collectors
import Foundation
import KubeClient
import KubeSim
import Synchronization
import TestSupport
import VeleroAPI
import VeleroServer

/// A served cluster with Velero's CRDs and the `velero` namespace, a local store behind a BackupStorageLocation
/// object, and `VeleroServer` runs against it over HTTP, as `velero-cas server` runs.
final class ServerHarness: Sendable {
    static let password = FixedPassword("server-test-password")
    let sim: KubeSimServer
    let client: KubeClient
    let temp: TemporaryDirectory
    let namespaces: [String]
    /// Seconds added to the wall clock the servers judge expiry by.
    let clockOffset = Mutex<TimeInterval>(0)

    /// The `default` location's directory: this harness's own, or one another harness shares.
    let storePath: String

    private init(sim: KubeSimServer, temp: TemporaryDirectory, namespaces: [String], storePath: String?) {
        self.sim = sim
        self.temp = temp
        self.namespaces = namespaces
        self.storePath = storePath ?? temp.sub("store")
        client = KubeClient(configuration: ClusterConfiguration(server: sim.baseURL))
    }

    /// - Parameter sharedStore: the `default` location's directory, when another cluster writes there too.
    static func with<T: Sendable>(sharedStore: String? = nil, _ body: (ServerHarness) async throws -> T)
        async throws -> T
    {
        let temp = try TemporaryDirectory("server")
        defer { temp.remove() }
        var configuration = KubeSimConfiguration(
            synthetic: SyntheticCluster.Options(namespaces: 2, objectsPerNamespace: 10))
        // pods/exec (hooks) runs in the kubelet roots `NodeCluster` gives its nodes.
        configuration.kubeletRoots = Dictionary(
            uniqueKeysWithValues: ["node-a", "node-b", "node-c"].map { ($0, temp.sub("kubelet-\($0)")) })
        let sim = try await KubeSimServer.start(configuration)
        let harness = ServerHarness(
            sim: sim, temp: temp, namespaces: sim.generated?.namespaceNames ?? [], storePath: sharedStore)
        do {
            try await harness.install()
            let result = try await body(harness)
            try await sim.shutdown()
            return result
        } catch {
            try? await sim.shutdown()
            throw error
        }
    }

    /// The CRDs, the namespace, and a `default` location of provider local, all created over the API.
    private func install() async throws {
        let definitions = APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            kind: "CustomResourceDefinition", namespaced: false)
        for definition in VeleroCRDs.all {
            try await client.create(definitions, namespace: nil, json: try definition.json())
        }
        try await apply(
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"velero"}}"#, to: Self.namespacesResource)
        var location = BackupStorageLocation(
            name: "default", namespace: "velero",
            spec: .init(provider: "local", config: ["path": storePath]))
        location.spec.default = true
        try await client.create(BackupStorageLocation.resource, namespace: "velero", json: try location.encoded())
    }

    static let namespacesResource = APIResource(
        group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
    static let configMaps = APIResource(
        group: "", version: "v1", name: "configmaps", kind: "ConfigMap", namespaced: true)

    /// Creates an object from its JSON text, as `kubectl apply` would send it.
    @discardableResult
    func apply(_ json: String, to resource: APIResource, namespace: String? = nil) async throws -> KubeObject {
        try await client.create(resource, namespace: namespace, json: Array(json.utf8))
    }

    func configuration(
        gcFrequency: Duration = .seconds(3600), concurrentBackups: Int = 2
    ) -> VeleroServer.Configuration {
        var configuration = VeleroServer.Configuration(
            namespace: "velero", concurrentBackups: concurrentBackups, garbageCollectionFrequency: gcFrequency,
            progressInterval: .milliseconds(100), passwords: Self.password,
            credentialsDirectory: temp.sub("credentials"), collectorWidth: 4, restoreWidth: 8,
            now: { Date().addingTimeInterval(self.clockOffset.withLock { $0 }) })
        // Store-facing loops at test speed (whole-second status times: about once a second per location).
        configuration.backupSyncPeriod = .milliseconds(200)
        configuration.storeValidationFrequency = .milliseconds(200)
        configuration.downloadSweepInterval = .milliseconds(200)
        configuration.serverVersion = "test-version"
        return configuration
    }

    func location(_ name: String) async throws -> BackupStorageLocation {
        try BackupStorageLocation.decode(
            try await client.get(BackupStorageLocation.resource, namespace: "velero", name: name).json)
    }

    /// Creates a Velero object and returns the name the server gave it.
    @discardableResult
    func create<K: VeleroKind>(_ object: K) async throws -> String {
        try await client.create(K.resource, namespace: "velero", json: try object.encoded()).name
    }

    /// Runs a server while `body` runs, then cancels it (as a kill would stop it).
    func withServer<T: Sendable>(
        _ configuration: VeleroServer.Configuration? = nil, _ body: () async throws -> T
    ) async throws -> T {
        let server = VeleroServer(client: client, configuration: configuration ?? self.configuration())
        let task = Task { try await server.run() }
        defer { task.cancel() }
        let result = try await body()
        task.cancel()
        _ = await task.result
        return result
    }

    func backup(_ name: String) async throws -> Backup? {
        do {
            return try Backup.decode(try await client.get(Backup.resource, namespace: "velero", name: name).json)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    func restore(_ name: String) async throws -> Restore {
        try Restore.decode(try await client.get(Restore.resource, namespace: "velero", name: name).json)
    }

    /// Polls until `condition` holds (or fails the test after `seconds`).
    @discardableResult
    func waitFor<T>(
        _ what: String, seconds: Double = 90, _ condition: () async throws -> T?
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TimedOut(what: what)
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Waits until the backup's phase is final and returns it.
    func finishedBackup(_ name: String, seconds: Double = 90) async throws -> Backup {
        try await waitFor("backup \(name) to finish", seconds: seconds) {
            let backup = try await backup(name)
            return backup.flatMap { $0.phase.isFinal ? $0 : nil }
        }
    }

    func finishedRestore(_ name: String) async throws -> Restore {
        try await waitFor("restore \(name) to finish") {
            let restore = try await restore(name)
            return restore.phase.isFinal ? restore : nil
        }
    }

    func repository() async throws -> Repository {
        try await Repository.open(try LocalDirectoryStore(root: storePath, create: false), passwords: Self.password)
    }

    func storedBackup(_ name: String) async throws -> BackupRecord? {
        try await repository().record(BackupRecord.self, key: BackupRecord.key(name))
    }

    /// A Backup manifest of one namespace, as a user writes it (with a field this version does not know).
    func backupManifest(_ name: String, namespace: String, extraSpec: String = "") -> String {
        """
        {"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"\(name)","namespace":"velero",\
        "labels":{"team":"a"}},"spec":{"includedNamespaces":["\(namespace)"],"ttl":"24h0m0s",\
        "someFutureField":{"x":1}\(extraSpec)}}
        """
    }
}
