import HTTPTransport

extension SigV4 {
    /// The longest a SigV4 presigned URL may live (7 days).
    public static let maxPresignSeconds = 604_800

    /// A presigned URL (SigV4 query-string authentication): anyone holding it may make this one request until
    /// `expires` seconds after `date`, without credentials. Only the `Host` header is signed and the payload is
    /// `UNSIGNED-PAYLOAD`, as AWS's presigned GETs are. `path` is the URI-encoded path; `query` holds extra unencoded
    /// name/value pairs (signed too).
    public func presignedURL(
        method: String = "GET", scheme: String, host: String, path: String, query: [(String, String)] = [],
        expires: Int, date: AWSDate
    ) -> String {
        let scope = "\(date.day)/\(region)/\(service)/aws4_request"
        var all = query
        all.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        all.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        all.append(("X-Amz-Date", date.timestamp))
        all.append(("X-Amz-Expires", String(min(max(expires, 1), Self.maxPresignSeconds))))
        all.append(("X-Amz-SignedHeaders", "host"))
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }
        let (canonical, _) = Self.canonicalRequest(
            method: method, path: path, query: all, headers: [HTTPHeader("Host", host)],
            payloadHash: "UNSIGNED-PAYLOAD")
        let stringToSign = Self.stringToSign(canonicalRequest: canonical, timestamp: date.timestamp, scope: scope)
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(day: date.day), Array(stringToSign.utf8)))
        // The canonical query is the URL's query: sorted, each name and value encoded once.
        let queryText = canonical.split(separator: "\n", omittingEmptySubsequences: false)[2]
        return "\(scheme)://\(host)\(path)?\(queryText)&X-Amz-Signature=\(signature)"
    }
}

extension S3ObjectStore {
    /// A presigned GET of `key` (relative to the store's prefix), valid for `expires` seconds from `date`.
    public func presignedGetURL(_ key: String, expires: Int, date: AWSDate = .now()) throws -> String {
        try ObjectKey.validate(key)
        let (host, path) = bucketLocation.hostAndPath(forKey: bucketLocation.objectKey(key))
        return signer.presignedURL(
            scheme: bucketLocation.endpoint.scheme, host: host, path: path, expires: expires, date: date)
    }
}
