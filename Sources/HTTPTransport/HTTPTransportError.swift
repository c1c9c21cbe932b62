/// Why a request got no HTTP response. HTTP error statuses are not errors here: callers read `status`.
public enum HTTPTransportError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidURL(String)
    case connectionFailed(url: String, reason: String)
    case timedOut(url: String)
    case tlsFailed(url: String, reason: String)
    case transferFailed(url: String, reason: String)
    case shutDown

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL '\(url)'"
        case .connectionFailed(let url, let reason): "cannot connect to \(url): \(reason)"
        case .timedOut(let url): "request to \(url) timed out"
        case .tlsFailed(let url, let reason): "TLS failure talking to \(url): \(reason)"
        case .transferFailed(let url, let reason): "transfer from \(url) failed: \(reason)"
        case .shutDown: "the HTTP client was shut down"
        }
    }

    /// Worth retrying: the network or server may recover. TLS and URL errors will not.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .timedOut, .transferFailed: true
        case .invalidURL, .tlsFailed, .shutDown: false
        }
    }
}
