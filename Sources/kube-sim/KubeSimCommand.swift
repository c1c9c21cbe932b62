import ArgumentParser
import Dispatch
import Foundation
import KubeSim

/// `kube-sim`: serves an in-memory Kubernetes API until SIGTERM or SIGINT.
@main
struct KubeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-sim",
        abstract: "An in-memory Kubernetes API server for tests, demos and benchmarks.",
        discussion: """
            Prints "kube-sim listening on http://HOST:PORT" once it accepts connections. Faults can be injected over \
            HTTP: POST /sim/faults {"status":503,"count":2} (or "latencyMs", "fraction", "retryAfterSeconds", \
            "pathPrefix", "verb"); DELETE /sim/faults clears them; POST /sim/compact expires continue tokens.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(
        name: .customLong("token"),
        help: "A bearer token, TOKEN or TOKEN=admin or TOKEN=readonly (repeatable). Without any, auth is off.")
    var tokens: [String] = []

    @Option(name: .customLong("fixtures"), help: "A YAML/JSON file or directory of objects to load (repeatable).")
    var fixtures: [String] = []

    @Option(help: "Generate a synthetic cluster with this many namespaces.")
    var generateNamespaces = 0

    @Option(help: "Objects per generated namespace.")
    var generateObjects = 0

    @Option(help: "Seed of the synthetic cluster.")
    var seed: UInt64 = 1

    @Flag(help: "Generate no cluster-scoped objects (persistent volumes, storage classes, cluster roles, …).")
    var noGeneratedClusterScoped = false

    @Flag(
        help: """
            Stop when standard input closes too: a parent that holds the other end of a pipe takes kube-sim along \
            when it exits, however it exits.
            """)
    var stopOnStdinClose = false

    @Option(help: "Write a kubeconfig for this server (with the first token) to this path.")
    var kubeconfigOut: String?

    @Option(help: "Continue tokens older than this many seconds get 410 Gone.")
    var compactionWindowSeconds = 300

    @Flag(help: "Do not create the default, kube-system, kube-public and kube-node-lease namespaces.")
    var noDefaultNamespaces = false

    @Option(help: "Serve at most this many requests at once, like a real API server's limit (0: no limit).")
    var maxInFlight = 0

    @Option(help: "With --max-in-flight: requests that may wait for a seat; more get 429 with Retry-After.")
    var queueLength = 0

    @Option(help: "With --max-in-flight: milliseconds each request holds its seat (the server's work for it).")
    var requestCostMs = 0.0

    @Option(
        name: .customLong("kubelet-root"),
        help: """
            NODE=DIR (repeatable): serve pods/exec for pods on NODE, running the command as a local process in \
            DIR/pods/<pod uid> (the pod's volumes are under volumes/ there). Without it exec is refused.
            """)
    var kubeletRoots: [String] = []

    /// `--kubelet-root` as node → absolute directory.
    var parsedKubeletRoots: [String: String]? {
        guard !kubeletRoots.isEmpty else { return nil }
        var roots: [String: String] = [:]
        for entry in kubeletRoots {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { roots[parts[0]] = parts[1] }
        }
        return roots
    }

    func validate() throws {
        for entry in kubeletRoots {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
                throw ValidationError("invalid --kubelet-root '\(entry)': expected NODE=/absolute/directory")
            }
        }
        for token in tokens where Credential(parsing: token) == nil {
            throw ValidationError("invalid --token '\(token)': expected TOKEN, TOKEN=admin or TOKEN=readonly")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard generateNamespaces >= 0, generateObjects >= 0 else {
            throw ValidationError("--generate-namespaces and --generate-objects must not be negative")
        }
        guard compactionWindowSeconds > 0 else { throw ValidationError("--compaction-window-seconds must be positive") }
        guard maxInFlight >= 0 else {
            throw ValidationError("--max-in-flight must not be negative (got \(maxInFlight))")
        }
        guard queueLength >= 0 else {
            throw ValidationError("--queue-length must not be negative (got \(queueLength))")
        }
        guard requestCostMs >= 0, requestCostMs.isFinite else {
            throw ValidationError("--request-cost-ms must be a non-negative number (got \(requestCostMs))")
        }
    }

    func run() async throws {
        let terminated = SignalWaiter()
        if stopOnStdinClose { terminated.stopWhenStandardInputCloses() }
        var configuration = KubeSimConfiguration(
            host: host, port: port, credentials: tokens.compactMap { Credential(parsing: $0) },
            threads: ProcessInfo.processInfo.activeProcessorCount, compactionWindow: .seconds(compactionWindowSeconds),
            createDefaultNamespaces: !noDefaultNamespaces,
            fixtures: fixtures)
        configuration.kubeletRoots = parsedKubeletRoots
        // A real API server's idle timeout; the short library default is for processes running many servers.
        configuration.idleConnectionTimeout = .seconds(90)
        if maxInFlight > 0 {
            configuration.capacity = Capacity(
                maxInFlight: maxInFlight, queueLength: queueLength,
                cost: .microseconds(Int64((requestCostMs * 1000).rounded())))
        }
        if generateNamespaces > 0 {
            configuration.synthetic = SyntheticCluster.Options(
                namespaces: generateNamespaces, objectsPerNamespace: generateObjects, seed: seed,
                clusterScoped: !noGeneratedClusterScoped)
        }
        let server = try await KubeSimServer.start(configuration)
        if let kubeconfigOut { try server.writeKubeconfig(path: kubeconfigOut) }
        if let generated = server.generated {
            FileHandle.standardError.write(
                Data("kube-sim generated \(generated.total) objects (\(generated.bytes) bytes)\n".utf8))
        }
        FileHandle.standardOutput.write(Data("kube-sim listening on \(server.baseURL)\n".utf8))
        await terminated.wait()
        try await server.shutdown()
    }
}

/// Turns SIGTERM and SIGINT (and, when asked, the end of standard input) into the end of `wait()`.
final class SignalWaiter {
    private let sources: [any DispatchSourceSignal]
    private let queue = DispatchQueue(label: "kube-sim-signals")
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        self.stream = stream
        self.continuation = continuation
        let queue = queue
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
    }

    /// Also ends `wait()` when standard input reaches its end (read on a thread of its own: the read blocks).
    func stopWhenStandardInputCloses() {
        let continuation = continuation
        let thread = Thread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            continuation.yield()
        }
        thread.name = "kube-sim stdin"
        thread.start()
    }

    func wait() async {
        for await _ in stream { return }
    }
}
