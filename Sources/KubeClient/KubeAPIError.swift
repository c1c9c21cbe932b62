import Foundation

/// An error answer from the API server, decoded from its `Status` body.
public struct KubeAPIError: Error, CustomStringConvertible, Equatable, Sendable {
    /// HTTP status, e.g. 404.
    public var code: Int
    /// The Status reason, e.g. "NotFound", "AlreadyExists", "Conflict", "Invalid", "Expired".
    public var reason: String
    public var message: String
    /// What was requested, e.g. "GET /api/v1/namespaces/x".
    public var request: String

    public var description: String {
        "\(request) failed: \(code) \(reason)" + (message.isEmpty ? "" : ": \(message)") + hint
    }

    private var hint: String {
        switch code {
        case 401: " (the credentials were rejected; check the kubeconfig user or token)"
        case 403: " (the user lacks RBAC permission for this)"
        default: ""
        }
    }

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    /// A list continue token that the server no longer honours.
    public var isExpired: Bool { code == 410 }

    init(status: Int, body: [UInt8], request: String) {
        struct StatusBody: Decodable {
            var reason: String?
            var message: String?
        }
        let decoded = try? JSONDecoder().decode(StatusBody.self, from: Data(body))
        code = status
        reason = decoded?.reason ?? Self.defaultReason(status)
        message = decoded?.message ?? String(decoding: body.prefix(300), as: UTF8.self)
        self.request = request
    }

    public init(code: Int, reason: String, message: String, request: String) {
        self.code = code
        self.reason = reason
        self.message = message
        self.request = request
    }

    static func defaultReason(_ status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 410: "Expired"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        default: status >= 500 ? "InternalError" : "Unknown"
        }
    }
}

/// The cluster could not be reached at all.
public struct KubeConnectionError: Error, CustomStringConvertible, Sendable {
    public var server: String
    public var reason: String
    public var description: String { "cannot reach the Kubernetes API server at \(server): \(reason)" }
}
