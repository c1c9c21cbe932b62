import Foundation
import SystemIO

/// Produces the bearer token for each request: static, re-read from a file, or from an exec plugin (cached until
/// it expires). An actor because many requests ask at once; the plugin's run is stored as an in-flight task before
/// the first await, so concurrent callers share one run instead of starting several.
actor CredentialProvider {
    private let credentials: ClusterConfiguration.Credentials
    private var cached: (token: String, expires: Date?)?
    private var inFlight: Task<(String, Date?), any Error>?

    init(_ credentials: ClusterConfiguration.Credentials) {
        self.credentials = credentials
    }

    /// The Authorization header value, or nil when the cluster needs none (or uses client certificates).
    func authorization() async throws -> String? {
        switch credentials {
        case .none: return nil
        case .token(let token): return "Bearer \(token)"
        case .tokenFile(let path):
            let bytes = try await BlockingPool.shared.run { try FileSystem.readFile(path) }
            return "Bearer \(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))"
        case .exec(let exec):
            if let cached, cached.expires.map({ $0.timeIntervalSinceNow > 10 }) ?? true {
                return "Bearer \(cached.token)"
            }
            if let inFlight { return "Bearer \(try await inFlight.value.0)" }
            let task = Task { try await Self.runPlugin(exec) }
            inFlight = task
            defer { inFlight = nil }
            let (token, expires) = try await task.value
            cached = (token, expires)
            return "Bearer \(token)"
        }
    }

    /// Forgets a cached plugin token (after a 401, the plugin may hand out a fresh one).
    func invalidate() {
        cached = nil
    }

    /// Runs the exec plugin with its stdout and stderr read at the same time (a plugin that writes much to stderr
    /// cannot stall on a full pipe), and stops it when it runs longer than `timeout`. Every blocking step runs on
    /// the blocking pool.
    static func runPlugin(_ exec: Kubeconfig.ExecConfig, timeout: Duration = .seconds(60)) async throws -> (
        String, Date?
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [exec.command] + (exec.args ?? [])
        var environment = ProcessInfo.processInfo.environment
        for variable in exec.env ?? [] { environment[variable.name] = variable.value }
        let apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1"
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try await BlockingPool.shared.run {
            do { try process.run() } catch {
                throw KubeConfigError.execFailed(command: exec.command, reason: "\(error)")
            }
        }
        let descriptors = [output.fileHandleForReading.fileDescriptor, errors.fileHandleForReading.fileDescriptor]
        let deadline = ContinuousClock.now + timeout
        let drained = try await BlockingPool.shared.run { try PipeDrain.readAll(descriptors, until: deadline) }
        if drained.timedOut {
            // Children of the plugin may keep the pipes open; they are not waited for.
            process.terminate()
            throw KubeConfigError.execFailed(
                command: exec.command, reason: "did not finish within \(timeout) and was stopped")
        }
        try await BlockingPool.shared.run { process.waitUntilExit() }
        let (data, errorBytes) = (Data(drained.outputs[0]), drained.outputs[1])
        let errorText = String(decoding: errorBytes, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw KubeConfigError.execFailed(
                command: exec.command, reason: "exit \(process.terminationStatus): \(errorText.suffix(500))")
        }
        return try Self.parseCredential(data, command: exec.command)
    }

    static func parseCredential(_ data: Data, command: String) throws -> (String, Date?) {
        struct ExecCredential: Decodable {
            struct Status: Decodable {
                var token: String?
                var expirationTimestamp: String?
            }
            var status: Status?
        }
        guard let credential = try? JSONDecoder().decode(ExecCredential.self, from: data),
            let token = credential.status?.token, !token.isEmpty
        else {
            throw KubeConfigError.execFailed(
                command: command, reason: "output is not an ExecCredential with a token")
        }
        let expires = credential.status?.expirationTimestamp.flatMap { ISO8601DateFormatter().date(from: $0) }
        return (token, expires)
    }
}
