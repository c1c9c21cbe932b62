import Foundation
import HTTPTransport

/// What a command run in a container (`pods/exec`) came to.
public struct ExecResult: Sendable, Equatable {
    /// Standard output and error, each cut to `KubeClient.execOutputLimit` bytes (the first ones kept).
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The command's exit code; nil when it did not run to an exit (the runtime could not start it, or it was
    /// killed), then `failure` says why.
    public var exitCode: Int32?
    /// The server's failure message (the Status on the error channel), nil on success.
    public var failure: String?

    public var succeeded: Bool { exitCode == 0 && failure == nil }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Why an exec did not produce a result.
public enum KubeExecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The command ran longer than its timeout and was abandoned (the connection closed).
    case timedOut(pod: String, container: String?, after: Duration)
    /// The stream ended without the error channel's Status (the connection broke).
    case noStatus(pod: String, reason: String)

    public var description: String {
        switch self {
        case .timedOut(let pod, let container, let after):
            "command in pod \(pod)\(container.map { " container \($0)" } ?? "") did not finish within \(after)"
        case .noStatus(let pod, let reason): "exec in pod \(pod) ended without the command's status: \(reason)"
        }
    }
}

extension KubeClient {
    /// The most bytes of stdout (and of stderr) an exec keeps.
    public static let execOutputLimit = 1 << 20

    /// Runs `command` in a container of a pod through the API server's `pods/exec` subresource over Kubernetes'
    /// WebSocket exec protocol (`v4.channel.k8s.io`: binary messages whose first byte is the channel, 1 stdout,
    /// 2 stderr, 3 the closing `Status`), with the client's credentials and TLS. No stdin, no TTY.
    ///
    /// `container` nil lets the server choose (it does only for single-container pods). A non-zero exit is a
    /// result, not an error; a refused request (404 pod, 400 container, 403) throws `KubeAPIError`; `timeout`
    /// (nil: none) cancels the connection and throws `KubeExecError.timedOut`, as does cancelling the task
    /// (`CancellationError`). What happens to the command then is the kubelet's business, as with kubectl.
    public func exec(
        namespace: String, pod: String, container: String?, command: [String], timeout: Duration? = nil
    ) async throws -> ExecResult {
        guard let timeout else { return try await runExec(namespace, pod, container, command) }
        return try await withThrowingTaskGroup(of: ExecResult?.self) { group in
            group.addTask { try await self.runExec(namespace, pod, container, command) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw KubeExecError.timedOut(pod: "\(namespace)/\(pod)", container: container, after: timeout)
            }
            return result
        }
    }

    private func runExec(_ namespace: String, _ pod: String, _ container: String?, _ command: [String])
        async throws -> ExecResult
    {
        var query: [(String, String)] = command.map { ("command", $0) }
        if let container { query.append(("container", container)) }
        query += [("stdout", "true"), ("stderr", "true")]
        let path = "/api/v1/namespaces/\(Self.percentEncode(namespace))/pods/\(Self.percentEncode(pod))/exec"
        var headers: [HTTPHeader] = []
        if let authorization = try await credentials.authorization() {
            headers.append(HTTPHeader("Authorization", authorization))
        }
        let label = "EXEC \(path)"
        var result = ExecResult(stdout: [], stderr: [], exitCode: nil, failure: nil)
        var status: [UInt8]?
        do {
            let events = http.webSocket(
                url: configuration.server + path + Self.queryString(query), headers: headers,
                protocols: ["v4.channel.k8s.io"])
            for try await event in events {
                guard case .message(let message) = event, let channel = message.payload.first else { continue }
                let data = message.payload.dropFirst()
                switch channel {
                case 1: Self.keep(data, in: &result.stdout)
                case 2: Self.keep(data, in: &result.stderr)
                case 3: status = (status ?? []) + data
                default: continue
                }
            }
        } catch WebSocketError.upgradeRefused(let code, _, let body) {
            throw KubeAPIError(status: code, body: body, request: label)
        } catch let error as WebSocketError {
            // The server may drop the connection right after the status instead of closing it properly.
            guard status != nil, case .connectionLost = error else {
                throw KubeExecError.noStatus(pod: "\(namespace)/\(pod)", reason: error.description)
            }
        } catch let error as HTTPTransportError {
            throw KubeConnectionError(server: configuration.server, reason: error.description)
        }
        try Task.checkCancellation()
        guard let status else {
            throw KubeExecError.noStatus(pod: "\(namespace)/\(pod)", reason: "the server closed the stream")
        }
        (result.exitCode, result.failure) = Self.decodeExecStatus(status)
        return result
    }

    private static func keep(_ data: ArraySlice<UInt8>, in output: inout [UInt8]) {
        output += data.prefix(max(0, execOutputLimit - output.count))
    }

    /// The exit code and failure message of the error channel's `Status`: Success is exit 0; Failure with reason
    /// NonZeroExitCode carries the code in `details.causes[reason=ExitCode].message`; any other Failure has no code.
    static func decodeExecStatus(_ bytes: [UInt8]) -> (Int32?, String?) {
        struct Status: Decodable {
            struct Details: Decodable {
                struct Cause: Decodable { var reason: String?; var message: String? }
                var causes: [Cause]?
            }
            var status: String?
            var message: String?
            var reason: String?
            var details: Details?
        }
        guard let decoded = try? JSONDecoder().decode(Status.self, from: Data(bytes)) else {
            return (nil, "unreadable exec status: \(String(decoding: bytes.prefix(300), as: UTF8.self))")
        }
        if decoded.status == "Success" { return (0, nil) }
        let code = decoded.details?.causes?.first { $0.reason == "ExitCode" }?.message.flatMap { Int32($0) }
        return (code, decoded.message ?? decoded.reason ?? "exec failed")
    }
}
