import Foundation
import HTTPTransport
import Logging

/// A Kubernetes REST client over the shared libcurl transport: authentication, adaptive concurrency (and an optional
/// fixed rate), retries that honour `Retry-After` on 429 and back off on 5xx, and `Status` bodies decoded into
/// `KubeAPIError`.
public final class KubeClient: Sendable {
    public let configuration: ClusterConfiguration
    let http: HTTPClient
    let credentials: CredentialProvider
    let limiter: RateLimiter
    let concurrency: AdaptiveConcurrency
    let retry: RetryPolicy
    let logger = Logger(label: "velero-cas.kube")

    /// The default has no fixed rate: requests in flight adapt to the server (`AdaptiveConcurrency`, starting at
    /// `maxConnections` and growing to twice that while the server keeps up, halving when it answers 429). `qps` and
    /// `burst` add a client-side token bucket, as client-go's and Velero's `--client-qps`/`--client-burst` do
    /// (`qps` ≤ 0: none). `maxConnections` bounds connections to the server.
    public init(
        configuration: ClusterConfiguration, qps: Double = 0, burst: Int = 0, retry: RetryPolicy = RetryPolicy(),
        maxConnections: Int = 16
    ) {
        self.configuration = configuration
        http = HTTPClient(
            configuration: HTTPClient.Configuration(
                requestTimeout: .seconds(300), maxConnectionsPerHost: maxConnections, tls: configuration.tls))
        credentials = CredentialProvider(configuration.credentials)
        limiter = RateLimiter(qps: qps, burst: burst)
        concurrency = AdaptiveConcurrency(initial: maxConnections, maximum: maxConnections * 2)
        self.retry = retry
    }

    /// The adaptive in-flight limit now, and how many times the server's 429s lowered it.
    public var concurrencyLimit: (limit: Int, decreases: Int) { concurrency.current }

    /// Sends one request and returns the response of a 2xx answer; anything else throws `KubeAPIError`
    /// (or `KubeConnectionError` when the server cannot be reached after the retries). A request the server
    /// refused for load (429, 503 with Retry-After: it did not act) is retried for up to six times the retry
    /// policy's attempts, waiting as it asks.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json"
    ) async throws -> HTTPResponse {
        let url = configuration.server + path + Self.queryString(query)
        let label = "\(method.rawValue) \(path)"
        var attempt = 0
        var pushedBack = 0
        while true {
            try await limiter.acquire()
            var headers = [HTTPHeader("Accept", "application/json")]
            if body != nil { headers.append(HTTPHeader("Content-Type", contentType)) }
            if let authorization = try await credentials.authorization() {
                headers.append(HTTPHeader("Authorization", authorization))
            }
            attempt += 1
            let response: HTTPResponse
            try await concurrency.acquire()
            do {
                response = try await http.execute(HTTPRequest(method: method, url: url, headers: headers, body: body))
            } catch let error as HTTPTransportError {
                concurrency.release(overloaded: false)
                guard error.isTransient, attempt < retry.maxAttempts else {
                    throw KubeConnectionError(server: configuration.server, reason: error.description)
                }
                try await Task.sleep(for: retry.delay(beforeRetry: attempt - 1))
                continue
            } catch {
                concurrency.release(overloaded: false)
                throw error
            }
            let serverAskedToRetry =
                response.status == 429 || (response.status == 503 && response.header("Retry-After") != nil)
            concurrency.release(overloaded: serverAskedToRetry)
            if (200..<300).contains(response.status) { return response }
            if response.status == 401, case .exec = configuration.credentials { await credentials.invalidate() }
            // Writes are retried only when the server said it did not act (429, 503 with Retry-After).
            let idempotent = method == .get || method == .head
            if serverAskedToRetry { pushedBack += 1 }
            let retryable = serverAskedToRetry || (idempotent && RetryPolicy.isRetryable(status: response.status))
            let budget = serverAskedToRetry ? retry.maxAttempts * 6 : retry.maxAttempts
            guard retryable, (serverAskedToRetry ? pushedBack : attempt) < budget else {
                throw KubeAPIError(status: response.status, body: response.body, request: label)
            }
            let delay = retry.delay(retryAfter: response.header("Retry-After")) ?? retry.delay(beforeRetry: attempt - 1)
            logger.debug("\(label) answered \(response.status); retrying in \(delay)")
            try await Task.sleep(for: delay)
        }
    }

    /// Decodes a JSON answer.
    public func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        let response = try await send(.get, path)
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw KubeAPIError(
                code: response.status, reason: "BadResponse", message: "\(error)", request: "GET \(path)")
        }
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String { PercentEncoding.encode(text) }
}
