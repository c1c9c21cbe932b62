import Foundation
import HTTPTransport
import Logging

/// An `ObjectStore` in an S3 bucket (AWS or any S3-compatible server), signed with SigV4 and sent over libcurl.
///
/// Every PUT carries the SHA-256 of its body (`x-amz-content-sha256`, signed, and `x-amz-checksum-sha256`), so a
/// body damaged in transit is refused rather than stored. Throttling, server errors and network failures are retried
/// with exponential backoff and jitter; authentication and other client errors are not.
public final class S3ObjectStore: ObjectStore {
    public let bucketLocation: S3Location
    public var location: String { bucketLocation.description }
    let signer: SigV4
    private let client: HTTPClient
    private let retry: RetryPolicy
    private let logger = Logger(label: "velero-cas.s3")

    public init(
        location: S3Location, credentials: AWSCredentials, client: HTTPClient, retry: RetryPolicy = RetryPolicy()
    ) {
        bucketLocation = location
        signer = SigV4(credentials: credentials, region: location.region)
        self.client = client
        self.retry = retry
    }

    private var endpointDescription: String {
        "\(bucketLocation.endpoint.scheme)://\(bucketLocation.endpoint.authority)"
    }

    public func checkAccess() async throws {
        let response = try await send(
            .get, key: nil, query: [("list-type", "2"), ("max-keys", "1")], operation: "list")
        guard response.status == 200 else { throw error(for: response, operation: "list", key: "") }
    }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        try ObjectKey.validate(key)
        let digest = Digest.sha256(bytes)
        let checksum = Data(digest).base64EncodedString()
        let response = try await send(
            .put, key: key, body: bytes, payloadHash: Digest.hex(digest),
            headers: [HTTPHeader("x-amz-checksum-sha256", checksum)], operation: "put")
        guard response.status == 200 else { throw error(for: response, operation: "put", key: key) }
    }

    public func get(_ key: String) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        let response = try await send(.get, key: key, operation: "get")
        if response.status == 404, S3XML.value(of: "Code", in: response.text) == "NoSuchKey" {
            throw ChunkStoreError.objectNotFound(key: key, store: location)
        }
        guard response.status == 200 else { throw error(for: response, operation: "get", key: key) }
        return response.body
    }

    public func get(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        try ObjectKey.validate(key)
        guard !range.isEmpty else { return [] }
        let response = try await send(
            .get, key: key, headers: [HTTPHeader("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")],
            operation: "get")
        if response.status == 404, S3XML.value(of: "Code", in: response.text) == "NoSuchKey" {
            throw ChunkStoreError.objectNotFound(key: key, store: location)
        }
        if response.status == 416 {
            throw ChunkStoreError.shortRead(
                key: key, store: location, wanted: range, size: try await size(of: key) ?? 0)
        }
        guard response.status == 206 || response.status == 200 else {
            throw error(for: response, operation: "get", key: key)
        }
        // A server that ignores Range answers 200 with the whole object.
        let body =
            response.status == 200 && response.body.count >= range.upperBound
            ? Array(response.body[range]) : response.body
        guard body.count == range.count else {
            throw ChunkStoreError.shortRead(
                key: key, store: location, wanted: range, size: try await size(of: key) ?? 0)
        }
        return body
    }

    public func size(of key: String) async throws -> Int? {
        try ObjectKey.validate(key)
        let response = try await send(.head, key: key, operation: "head")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw error(for: response, operation: "head", key: key) }
        return Int(response.header("Content-Length") ?? "") ?? 0
    }

    public func delete(_ key: String) async throws {
        try ObjectKey.validate(key)
        let response = try await send(.delete, key: key, operation: "delete")
        guard response.status == 204 || response.status == 200 || response.status == 404 && isNoSuchKey(response) else {
            throw error(for: response, operation: "delete", key: key)
        }
    }

    private func isNoSuchKey(_ response: HTTPResponse) -> Bool {
        S3XML.value(of: "Code", in: response.text).map { $0 == "NoSuchKey" } ?? true
    }

    public func list(prefix: String, page: ([ObjectInfo]) async throws -> Void) async throws {
        let fullPrefix = bucketLocation.objectKey(prefix)
        let strip = bucketLocation.prefix.isEmpty ? 0 : bucketLocation.prefix.count + 1
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", fullPrefix), ("max-keys", "1000")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.get, key: nil, query: query, operation: "list")
            guard response.status == 200 else { throw error(for: response, operation: "list", key: prefix) }
            let xml = response.text
            let objects = S3XML.contents(in: xml).map {
                ObjectInfo(key: String($0.key.dropFirst(strip)), size: $0.size, modified: $0.modified)
            }
            if !objects.isEmpty { try await page(objects) }
            token =
                S3XML.value(of: "IsTruncated", in: xml) == "true"
                ? S3XML.value(of: "NextContinuationToken", in: xml) : nil
        } while token != nil
    }

    /// A successful PUT is durable in S3; nothing to flush.
    public func sync() async throws {}

    // MARK: - Requests

    private func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], body: [UInt8]? = nil,
        payloadHash: String = SigV4.emptyPayloadHash, headers: [HTTPHeader] = [], operation: String
    ) async throws -> HTTPResponse {
        let (host, path) = bucketLocation.hostAndPath(forKey: key.map { bucketLocation.objectKey($0) })
        let queryString = query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        let url = "\(bucketLocation.endpoint.scheme)://\(host)\(path)" + (queryString.isEmpty ? "" : "?" + queryString)
        var attempt = 0
        while true {
            let signed = signer.sign(
                method: method.rawValue, host: host, path: path, query: query, headers: headers,
                payloadHash: payloadHash, date: .now())
            let request = HTTPRequest(method: method, url: url, headers: signed, body: body)
            let outcome: Result<HTTPResponse, any Error>
            do { outcome = .success(try await client.execute(request)) } catch { outcome = .failure(error) }
            attempt += 1
            if case .success(let response) = outcome {
                logger.trace("S3 \(method.rawValue) \(url) -> \(response.status) (\(response.body.count) bytes)")
            }
            var delay: Duration?
            switch outcome {
            case .success(let response) where RetryPolicy.isRetryable(status: response.status):
                delay = retry.delay(retryAfter: response.header("Retry-After")) ?? retry.delay(beforeRetry: attempt - 1)
            case .failure(let error as HTTPTransportError) where error.isTransient:
                delay = retry.delay(beforeRetry: attempt - 1)
            default: break
            }
            guard let delay, attempt < retry.maxAttempts else {
                if case .failure(let error as HTTPTransportError) = outcome {
                    throw S3Error.unreachable(endpoint: endpointDescription, reason: error.description)
                }
                return try outcome.get()
            }
            logger.debug("retrying S3 \(operation) of '\(key ?? "")' (attempt \(attempt + 1)) in \(delay)")
            try await Task.sleep(for: delay)
        }
    }

    private func error(for response: HTTPResponse, operation: String, key: String) -> Error {
        let xml = response.text
        let code = S3XML.value(of: "Code", in: xml) ?? ""
        let message = S3XML.value(of: "Message", in: xml) ?? ""
        if code == "NoSuchBucket" || (response.status == 404 && key.isEmpty) {
            return S3Error.bucketNotFound(bucket: bucketLocation.bucket, endpoint: endpointDescription)
        }
        if response.status == 403 || response.status == 401 {
            return S3Error.accessDenied(
                code: code.isEmpty ? "AccessDenied" : code,
                message: message.isEmpty ? "HTTP \(response.status)" : message,
                bucket: bucketLocation.bucket)
        }
        return S3Error.requestFailed(
            operation: operation, key: key, status: response.status, code: code, message: message)
    }
}
