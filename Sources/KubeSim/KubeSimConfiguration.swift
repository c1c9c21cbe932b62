import NIOCore

/// How a `KubeSimServer` starts.
public struct KubeSimConfiguration: Sendable {
    /// The `GET /version` answer; kubectl warns when it is more than one minor version from its own.
    public struct ServerVersion: Sendable {
        public var major: String
        public var minor: String
        public var patch: String
        public init(major: String = "1", minor: String = "32", patch: String = "0") {
            self.major = major
            self.minor = minor
            self.patch = patch
        }
    }

    public var host: String
    /// 0 binds an ephemeral port; read it back from `KubeSimServer.port`.
    public var port: Int
    /// Bearer tokens; when empty, authentication is off and every request acts as an admin.
    public var credentials: [Credential]
    /// Event loop threads. The default, 1, is enough for the tests' in-process servers, of which one process runs
    /// dozens at once (each loop holds a thread and epoll, eventfd and timerfd descriptors); the `kube-sim` command
    /// uses one per core.
    public var threads: Int
    /// Continue tokens older than this get 410 Gone ("Expired"), as after an etcd compaction.
    public var compactionWindow: Duration
    /// Events kept for watches that resume from a resourceVersion.
    public var watchHistoryLimit: Int
    /// Create default, kube-system, kube-public and kube-node-lease, like a fresh cluster.
    public var createDefaultNamespaces: Bool
    /// YAML or JSON files (or directories of them) loaded at start.
    public var fixtures: [String]
    /// A synthetic cluster generated at start.
    public var synthetic: SyntheticCluster.Options?
    /// Seeds the fault injector's coin flips, so fractional faults repeat.
    public var faultSeed: UInt64
    /// Larger request bodies get 413.
    public var maximumRequestBodyBytes: Int
    /// Bytes per write when streaming a list body.
    public var listWriteChunkBytes: Int
    public var serverVersion: ServerVersion
    /// The resourceVersion of the empty store; the first write gets the next one.
    public var initialResourceVersion: UInt64
    /// A real server's finite capacity (seats, a queue, a cost per request, 429 when saturated); nil answers every
    /// request at once.
    public var capacity: Capacity?
    /// `pods/exec`: node name → that node's kubelet root directory. A command runs as a local process in
    /// `<root>/pods/<pod uid>` (see `ExecPlan`); nil refuses exec.
    public var kubeletRoots: [String: String]?
    /// A keep-alive connection with no request in progress for this long is closed (nil: never). A real API server
    /// closes idle connections after 90 s (as the `kube-sim` command does); the in-process default is 1 s so that a
    /// test process running dozens of servers at once does not hold every client's idle connections open on both
    /// ends (clients reconnect, as they must with any server).
    public var idleConnectionTimeout: Duration?

    public init(
        host: String = "127.0.0.1", port: Int = 0, credentials: [Credential] = [],
        threads: Int = 1, compactionWindow: Duration = .seconds(300), watchHistoryLimit: Int = 10_000,
        createDefaultNamespaces: Bool = true, fixtures: [String] = [], synthetic: SyntheticCluster.Options? = nil,
        faultSeed: UInt64 = 1, maximumRequestBodyBytes: Int = 16 << 20, listWriteChunkBytes: Int = 1 << 20,
        serverVersion: ServerVersion = ServerVersion(), initialResourceVersion: UInt64 = 1000,
        capacity: Capacity? = nil, idleConnectionTimeout: Duration? = .seconds(1)
    ) {
        self.capacity = capacity
        self.idleConnectionTimeout = idleConnectionTimeout
        self.host = host
        self.port = port
        self.credentials = credentials
        self.threads = max(1, threads)
        self.compactionWindow = compactionWindow
        self.watchHistoryLimit = watchHistoryLimit
        self.createDefaultNamespaces = createDefaultNamespaces
        self.fixtures = fixtures
        self.synthetic = synthetic
        self.faultSeed = faultSeed
        self.maximumRequestBodyBytes = maximumRequestBodyBytes
        self.listWriteChunkBytes = listWriteChunkBytes
        self.serverVersion = serverVersion
        self.initialResourceVersion = initialResourceVersion
    }
}

/// A bearer token and what it may do.
public struct Credential: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable, CaseIterable {
        /// Everything.
        case admin
        /// get, list and watch only; writes get 403 Forbidden.
        case readOnly = "readonly"
    }

    public var token: String
    public var user: String
    public var role: Role

    public init(token: String, role: Role = .admin, user: String? = nil) {
        self.token = token
        self.role = role
        self.user = user ?? (role == .admin ? "kube-sim-admin" : "kube-sim-readonly")
    }

    /// Parses `TOKEN`, `TOKEN=admin` or `TOKEN=readonly` (the `--token` flag); a token ending in "=" (base64
    /// padding) with no role is taken whole. Any other suffix after the last "=" is an error, not part of the token.
    public init?(parsing text: String) {
        guard let equals = text.lastIndex(of: "=") else {
            guard !text.isEmpty else { return nil }
            self.init(token: text)
            return
        }
        let roleText = text[text.index(after: equals)...].lowercased()
        let role: Role
        switch roleText {
        case "admin": role = .admin
        case "readonly", "read-only": role = .readOnly
        case "":
            self.init(token: text)
            return
        default: return nil
        }
        let token = String(text[..<equals])
        guard !token.isEmpty else { return nil }
        self.init(token: token, role: role)
    }
}
