import HTTPTransport

#if canImport(Glibc)
    import Glibc
#endif

/// AWS Signature Version 4 for S3, computed with OpenSSL's HMAC-SHA256.
///
/// The payload hash is always sent in `x-amz-content-sha256` and signed, so S3 rejects a body altered in transit.
public struct SigV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Returns `headers` plus `x-amz-date`, `x-amz-content-sha256`, the session token if any, and `Authorization`.
    /// `path` is the URI-encoded path; `query` holds unencoded name/value pairs.
    public func sign(
        method: String, host: String, path: String, query: [(String, String)], headers: [HTTPHeader],
        payloadHash: String, date: AWSDate
    ) -> [HTTPHeader] {
        var all = headers
        all.append(HTTPHeader("Host", host))
        all.append(HTTPHeader("x-amz-date", date.timestamp))
        all.append(HTTPHeader("x-amz-content-sha256", payloadHash))
        if let token = credentials.sessionToken { all.append(HTTPHeader("x-amz-security-token", token)) }
        let (canonical, signedHeaders) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let scope = "\(date.day)/\(region)/\(service)/aws4_request"
        let stringToSign = Self.stringToSign(canonicalRequest: canonical, timestamp: date.timestamp, scope: scope)
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(day: date.day), Array(stringToSign.utf8)))
        all.append(
            HTTPHeader(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return all
    }

    /// The canonical request and the signed-header list. Every header given is signed.
    public static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [HTTPHeader], payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        var byName: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            byName[header.name.lowercased(), default: []].append(value)
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let request = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].joined(
            separator: "\n")
        return (request, signedHeaders)
    }

    public static func stringToSign(canonicalRequest: String, timestamp: String, scope: String) -> String {
        let hash = Digest.hex(Digest.sha256(Array(canonicalRequest.utf8)))
        return "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(hash)"
    }

    func signingKey(day: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        key = Digest.hmacSHA256(key: key, Array(region.utf8))
        key = Digest.hmacSHA256(key: key, Array(service.utf8))
        return Digest.hmacSHA256(key: key, Array("aws4_request".utf8))
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (what SigV4 requires).
    public static func encode(_ text: String) -> String { PercentEncoding.encode(text) }

    /// Encodes each path segment, keeping the slashes (S3 encodes object keys once).
    public static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }
}

/// A signing time in the two forms SigV4 uses.
public struct AWSDate: Sendable {
    /// yyyyMMdd'T'HHmmss'Z'
    public let timestamp: String
    /// yyyyMMdd
    public var day: String { String(timestamp.prefix(8)) }

    public init(timestamp: String) { self.timestamp = timestamp }

    public static func now() -> AWSDate {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text =
            "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
        return AWSDate(timestamp: text)
    }
}
