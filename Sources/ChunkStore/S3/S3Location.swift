import Foundation

/// Where an S3 store lives: bucket, key prefix, endpoint, region and addressing style.
///
/// Written as `s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:9000&addressing=path&profile=name`.
/// Region and endpoint fall back to the usual AWS variables (`AWS_REGION`, `AWS_DEFAULT_REGION`,
/// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`); a custom endpoint defaults to path-style addressing (MinIO, Ceph).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public enum Addressing: String, Sendable { case path, virtual }

    public var bucket: String
    /// Key prefix without leading or trailing slashes; may be empty.
    public var prefix: String
    public var region: String
    public var endpoint: Endpoint
    public var addressing: Addressing
    /// The credentials profile to use instead of the default chain.
    public var profile: String?

    public struct Endpoint: Sendable, Equatable {
        public var scheme: String
        public var host: String
        public var port: Int?

        /// Parses `http[s]://host[:port]` (a trailing slash is allowed).
        public init(parsing text: String) throws(ChunkStoreError) {
            func bad(_ reason: String) -> ChunkStoreError { .invalidStoreLocation(text, reason: reason) }
            guard let schemeEnd = text.range(of: "://") else {
                throw bad("endpoint must start with http:// or https://")
            }
            scheme = String(text[..<schemeEnd.lowerBound]).lowercased()
            guard scheme == "http" || scheme == "https" else { throw bad("endpoint scheme must be http or https") }
            var rest = String(text[schemeEnd.upperBound...])
            while rest.hasSuffix("/") { rest.removeLast() }
            guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else {
                throw bad("endpoint must be scheme://host[:port] with no path")
            }
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
                guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                    throw bad("endpoint port must be a number from 1 to 65535")
                }
                self.port = port
                host = String(rest[..<colon])
            } else {
                port = nil
                host = rest
            }
            guard !host.isEmpty else { throw bad("endpoint has no host") }
        }

        init(scheme: String, host: String, port: Int?) {
            self.scheme = scheme
            self.host = host
            self.port = port
        }

        /// host[:port] as the Host header carries it.
        public var authority: String { port.map { "\(host):\($0)" } ?? host }
    }

    public init(
        bucket: String, prefix: String = "", region: String = "us-east-1", endpoint: Endpoint? = nil,
        addressing: Addressing? = nil, profile: String? = nil
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.endpoint = endpoint ?? Endpoint(scheme: "https", host: "s3.\(region).amazonaws.com", port: nil)
        // Virtual-hosted names with dots break TLS wildcard matching, so such buckets use path style.
        self.addressing = addressing ?? (endpoint == nil && !bucket.contains(".") ? .virtual : .path)
        self.profile = profile
    }

    /// Parses an `s3://` URL; `environment` supplies region and endpoint defaults.
    public init(parsing url: String, environment: [String: String] = [:]) throws(ChunkStoreError) {
        func bad(_ reason: String) -> ChunkStoreError { .invalidStoreLocation(url, reason: reason) }
        guard url.hasPrefix("s3://") else { throw bad("an S3 location starts with s3://") }
        var rest = String(url.dropFirst(5))
        var options: [String: String] = [:]
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[1].isEmpty else { throw bad("option '\(pair)' needs a value") }
                let name = String(parts[0])
                guard ["region", "endpoint", "addressing", "profile"].contains(name) else {
                    throw bad("unknown option '\(name)' (known: region, endpoint, addressing, profile)")
                }
                options[name] = String(parts[1])
            }
            rest = String(rest[..<question])
        }
        let bucket = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        try S3Location.validate(bucket: bucket, url: url)
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty {
            do { try ObjectKey.validate(prefix) } catch {
                throw bad("prefix '\(prefix)' has unsafe characters or '..'")
            }
        }
        let region =
            options["region"] ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard !region.isEmpty,
            region.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A)
            })
        else { throw bad("region '\(region)' is not a region name") }
        let endpointText = options["endpoint"] ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let endpoint = try endpointText.map { text throws(ChunkStoreError) in try Endpoint(parsing: text) }
        var addressing: Addressing?
        if let style = options["addressing"] {
            guard let parsed = Addressing(rawValue: style) else { throw bad("addressing must be 'path' or 'virtual'") }
            addressing = parsed
        }
        self.init(
            bucket: bucket, prefix: prefix, region: region, endpoint: endpoint, addressing: addressing,
            profile: options["profile"])
    }

    /// S3's bucket naming rules: 3–63 characters of lowercase letters, digits, dots and hyphens.
    static func validate(bucket: String, url: String) throws(ChunkStoreError) {
        func bad(_ reason: String) -> ChunkStoreError { .invalidStoreLocation(url, reason: reason) }
        guard !bucket.isEmpty else { throw bad("no bucket name after s3://") }
        guard (3...63).contains(bucket.utf8.count) else {
            throw bad("bucket name '\(bucket)' must be 3 to 63 characters")
        }
        let allowed = bucket.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-")
                || $0 == UInt8(ascii: ".")
        }
        let edgesOK = [bucket.utf8.first!, bucket.utf8.last!].allSatisfy {
            $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ".")
        }
        guard allowed && edgesOK && !bucket.contains("..") else {
            throw bad(
                "bucket name '\(bucket)' may hold only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit"
            )
        }
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// The full object key for a store-relative key.
    func objectKey(_ key: String) -> String { prefix.isEmpty ? key : prefix + "/" + key }

    /// Host header and URL path (already URI-encoded) for an object key, or for the bucket when `key` is nil.
    func hostAndPath(forKey key: String?) -> (host: String, path: String) {
        let encodedKey = key.map { "/" + SigV4.encodePath($0) } ?? "/"
        switch addressing {
        case .path:
            return (endpoint.authority, "/" + bucket + (key == nil ? "" : encodedKey))
        case .virtual:
            return (bucket + "." + endpoint.authority, encodedKey)
        }
    }
}
