import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An in-memory Kubernetes API server on 127.0.0.1, for tests, the demo and benchmarks.
///
/// ```swift
/// let server = try await KubeSimServer.start(KubeSimConfiguration(credentials: [Credential(token: "t")]))
/// defer { Task { try await server.shutdown() } }
/// // http://127.0.0.1:\(server.port) serves /api, /apis, objects, watches …
/// ```
public final class KubeSimServer: Sendable {
    public let host: String
    /// The bound port (the ephemeral one when the configuration asked for 0).
    public let port: Int
    /// What the configuration's `synthetic` option generated, if anything.
    public let generated: SyntheticCluster.Summary?
    let core: SimulatorCore
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let connections: ConnectionSet

    public var baseURL: String { "http://\(host):\(port)" }
    public var configuration: KubeSimConfiguration { core.configuration }

    private init(
        host: String, port: Int, generated: SyntheticCluster.Summary?, core: SimulatorCore,
        group: MultiThreadedEventLoopGroup, channel: any Channel, connections: ConnectionSet
    ) {
        self.host = host
        self.port = port
        self.generated = generated
        self.core = core
        self.group = group
        self.channel = channel
        self.connections = connections
    }

    /// Seeds the store (default namespaces, fixtures, synthetic cluster), then binds and serves.
    public static func start(_ configuration: KubeSimConfiguration = KubeSimConfiguration()) async throws
        -> KubeSimServer
    {
        let core = SimulatorCore(configuration: configuration)
        let generated = try await offCooperativePool {
            if configuration.createDefaultNamespaces {
                for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
                    _ = try core.createObject([
                        "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)],
                    ])
                }
            }
            for path in configuration.fixtures {
                _ = try core.load(try Fixtures.objects(at: path))
            }
            return configuration.synthetic.map { core.generate($0) }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let connections = ConnectionSet()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .childChannelInitializer { channel in
                connections.insert(channel)
                return channel.eventLoop.makeCompletedFuture {
                    // pods/exec upgrades to WebSocket; the plain HTTP handler then leaves the pipeline.
                    let upgrade: NIOHTTPServerUpgradeConfiguration = (
                        upgraders: [ExecUpgrade.upgrader(core: core)],
                        completionHandler: { context in
                            context.pipeline.removeHandler(name: HTTPHandler.name, promise: nil)
                        }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: upgrade, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(core: core), name: HTTPHandler.name)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let port = channel.localAddress?.port ?? configuration.port
        core.serverAddress.withLock { $0 = "\(configuration.host):\(port)" }
        return KubeSimServer(
            host: configuration.host, port: port, generated: generated, core: core, group: group, channel: channel,
            connections: connections)
    }

    /// Stops listening, closes every connection it accepted (watches end; clients see their kept-alive connections
    /// closed at once) and then stops its event loops.
    public func shutdown() async throws {
        try? await channel.close()
        await connections.closeAll()
        try await group.shutdownGracefully()
    }

    /// Runs CPU-heavy seeding on a thread of its own instead of the cooperative pool.
    private static func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.name = "kube-sim-seed"
            thread.start()
        }
    }

    // MARK: - In-process access for tests

    /// The current (global) resourceVersion.
    public var resourceVersion: UInt64 { core.store.revision }

    /// Objects stored, of one resource (plural name plus group, "" for core) or of all, optionally in one namespace.
    public func objectCount(resource: String? = nil, group: String = "", namespace: String? = nil) -> Int {
        core.store.count(typeKey: resource.map { group.isEmpty ? $0 : $0 + "." + group }, namespace: namespace)
    }

    /// The bytes a GET of `path` would return (e.g. "/api/v1/namespaces/default/configmaps/x"), or nil.
    public func objectBytes(at path: String) -> [UInt8]? {
        core.objectBytes(at: path)
    }

    /// The object at `path`, parsed.
    public func object(at path: String) -> JSONValue? {
        objectBytes(at: path).flatMap { try? JSONValue.parse($0) }
    }

    /// Creates an object in-process exactly as a POST would (validation, defaults, events); returns it.
    @discardableResult
    public func create(_ object: JSONValue) throws -> JSONValue {
        try core.createObject(object)
    }

    /// Creates objects (CRDs first, then namespaces, then the rest); missing namespaces are created.
    @discardableResult
    public func load(_ objects: [JSONValue]) throws -> Int {
        try core.load(objects)
    }

    /// Loads YAML/JSON fixture files (a file or a directory).
    @discardableResult
    public func loadFixtures(at path: String) throws -> Int {
        try core.load(try Fixtures.objects(at: path))
    }

    /// Adds a synthetic cluster to the store.
    public func generate(_ options: SyntheticCluster.Options) async throws -> SyntheticCluster.Summary {
        let core = core
        return try await Self.offCooperativePool { core.generate(options) }
    }

    // MARK: Faults and counters

    public func addFault(_ fault: Fault) { core.faults.add(fault) }
    public func clearFaults() { core.faults.clear() }
    public var faults: [Fault] { core.faults.faults }

    /// Every request answered so far (not /sim/ ones), oldest first.
    public var requests: [RequestRecord] { core.log.all }

    /// How many requests matched: `verb` is a Kubernetes verb ("list", "get", "create", "watch", "discovery"…),
    /// `method` an HTTP method, `pathPrefix` a path prefix such as "/api/v1/namespaces/default/configmaps".
    public func requestCount(verb: String? = nil, method: String? = nil, pathPrefix: String? = nil, status: Int? = nil)
        -> Int
    {
        core.log.count { record in
            (verb == nil || record.verb == verb) && (method == nil || record.method == method)
                && (pathPrefix == nil || record.path.hasPrefix(pathPrefix!))
                && (status == nil || record.status == status)
        }
    }

    public func resetRequestLog() { core.log.reset() }

    /// Client connections open right now (kept-alive idle ones included).
    public var connectionCount: Int { connections.count }

    /// Watches registered right now (a watch is registered when its starting snapshot is taken, which can be a
    /// while after its request was counted).
    public var watcherCount: Int { core.store.watcherCount }

    /// Forgets all history up to now, like an etcd compaction: older continue tokens and watch resourceVersions get
    /// 410 Gone.
    public func compact() { core.store.compact() }

    /// The resource types served now (built-in and from CRDs).
    public var resourceTypes: [ResourceType] { core.store.types().sorted { $0.key < $1.key } }

    // MARK: kubeconfig

    /// Writes a kubeconfig for this server: cluster "kube-sim" at `baseURL`, a user with `token` (the first
    /// configured credential's when nil), namespace "default".
    public func writeKubeconfig(path: String, token: String? = nil) throws {
        let token = token ?? configuration.credentials.first?.token
        let user = token.map { "    token: \"\($0)\"\n" } ?? "    {}\n"
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                server: \(baseURL)
              name: kube-sim
            contexts:
            - context:
                cluster: kube-sim
                namespace: default
                user: kube-sim
              name: kube-sim
            current-context: kube-sim
            preferences: {}
            users:
            - name: kube-sim
              user:

            """ + user
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// The connections a server has accepted and not yet closed, so that stopping the server closes each of them
/// explicitly and waits for it, before its event loops go.
final class ConnectionSet: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        open.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = open.withLock { $0.removeValue(forKey: key) } }
    }

    var count: Int { open.withLock { $0.count } }

    /// Closes every open connection and waits until each is closed.
    func closeAll() async {
        let channels = open.withLock { open in
            defer { open.removeAll() }
            return Array(open.values)
        }
        for channel in channels { try? await channel.close() }
    }
}
