import Foundation
import HTTPTransport

/// One watch event.
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }
    public var type: Kind
    public var object: KubeObject
}

extension KubeClient {
    /// Streams changes to `resource` from `resourceVersion` (or from now, listing existing objects first as ADDED
    /// when nil). An ERROR event (e.g. 410 Expired: resume with a fresh list) ends the stream with a `KubeAPIError`.
    /// Events are read from the connection only as the caller asks for them, so a slow caller pauses the transfer
    /// (see `HTTPResponseStream`) instead of collecting a backlog.
    public func watch(
        _ resource: APIResource, namespace: String? = nil, resourceVersion: String? = nil,
        labelSelector: String? = nil, timeoutSeconds: Int? = nil
    ) async throws -> WatchEventStream {
        var query: [(String, String)] = [("watch", "true")]
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        var headers = [HTTPHeader("Accept", "application/json")]
        if let authorization = try await credentials.authorization() {
            headers.append(HTTPHeader("Authorization", authorization))
        }
        let path = resource.path(namespace: namespace)
        let request = HTTPRequest(
            method: .get, url: configuration.server + path + Self.queryString(query), headers: headers, timeout: .zero)
        return WatchEventStream(upstream: try http.stream(request), resource: resource, label: "WATCH \(path)")
    }

    static func decodeEvent(_ line: [UInt8], resource: APIResource, label: String) throws -> WatchEvent {
        try line.withUnsafeBytes { raw in
            let members = try JSONScanner.members(of: raw)
            guard let typeRange = members.first(where: { $0.name == "type" })?.value,
                let objectRange = members.first(where: { $0.name == "object" })?.value,
                let type = WatchEvent.Kind(
                    rawValue: String(
                        decoding: UnsafeRawBufferPointer(
                            rebasing: raw[typeRange.lowerBound + 1..<typeRange.upperBound - 1]), as: UTF8.self))
            else {
                throw KubeAPIError(
                    code: 500, reason: "BadWatchEvent", message: "unreadable watch event", request: label)
            }
            let objectBytes = Array(raw[objectRange])
            if type == .error {
                struct Status: Decodable { var code: Int?; var reason: String?; var message: String? }
                let status = try? JSONDecoder().decode(Status.self, from: Data(objectBytes))
                throw KubeAPIError(
                    code: status?.code ?? 500, reason: status?.reason ?? "InternalError",
                    message: status?.message ?? "",
                    request: label)
            }
            return WatchEvent(
                type: type,
                object: try KubeObject(json: objectBytes, apiVersion: resource.groupVersion, kind: resource.kind))
        }
    }
}

/// The events of one watch, decoded one line at a time as the caller iterates; dropping it ends the watch.
public struct WatchEventStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let upstream: HTTPResponseStream
    let resource: APIResource
    let label: String

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(upstream: upstream.makeAsyncIterator(), resource: resource, label: label)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var upstream: HTTPResponseStream.AsyncIterator
        let resource: APIResource
        let label: String
        /// Bytes received and not yet decoded; everything before `scanned` holds no newline.
        var buffer: [UInt8] = []
        var scanned = 0

        public mutating func next() async throws -> WatchEvent? {
            while true {
                if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(buffer[..<newline])
                    buffer.removeSubrange(...newline)
                    scanned = 0
                    if line.isEmpty { continue }
                    return try KubeClient.decodeEvent(line, resource: resource, label: label)
                }
                scanned = buffer.count
                switch try await upstream.next() {
                case nil: return nil
                case .head(let status, _)? where !(200..<300).contains(status):
                    var body: [UInt8] = []
                    while case .data(let bytes)? = try await upstream.next() { body += bytes }
                    throw KubeAPIError(status: status, body: body, request: label)
                case .head?: continue
                case .data(let bytes)?: buffer += bytes
                }
            }
        }
    }
}
