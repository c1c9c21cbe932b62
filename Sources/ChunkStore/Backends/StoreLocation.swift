import HTTPTransport

/// A `--store` argument: a local directory path or an `s3://bucket/prefix` URL.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case local(path: String)
    case s3(S3Location)

    public init(parsing text: String, environment: [String: String]) throws(ChunkStoreError) {
        guard !text.isEmpty else { throw .invalidStoreLocation(text, reason: "empty location") }
        if text.hasPrefix("s3://") {
            self = .s3(try S3Location(parsing: text, environment: environment))
        } else if let scheme = text.split(separator: ":", maxSplits: 1).first, text.contains("://") {
            throw .invalidStoreLocation(
                text, reason: "unsupported scheme '\(scheme)://'; use a local directory path or s3://bucket/prefix")
        } else {
            self = .local(path: text)
        }
    }

    public var description: String {
        switch self {
        case .local(let path): path
        case .s3(let location): location.description
        }
    }

    /// Builds the backend. `create` makes a missing local directory (for writers); S3 credentials are resolved here.
    public func open(create: Bool, environment: [String: String], client: @autoclosure () -> HTTPClient) throws
        -> any ObjectStore
    {
        switch self {
        case .local(let path):
            return try LocalDirectoryStore(root: path, create: create)
        case .s3(let location):
            let credentials = try AWSCredentials.resolve(profile: location.profile, environment: environment)
            return S3ObjectStore(location: location, credentials: credentials, client: client())
        }
    }
}

extension HTTPClient.Configuration {
    /// An HTTP client for an object store used with `limits`: a connection for every chunk request the limits let
    /// be in flight, plus 16 for the record, index and lock requests that run beside them (16 at a time). With
    /// fewer connections than requests, the transport queues the rest behind the slowest answers: the default of
    /// 16 held a restore to half the 32 chunk requests its limits allow.
    /// `tls`: how the endpoint's certificate is checked (a private CA's bundle, or no check).
    public static func objectStore(limits: Repository.Limits = .standard, tls: TLSConfiguration = TLSConfiguration())
        -> HTTPClient.Configuration
    {
        HTTPClient.Configuration(maxConnectionsPerHost: limits.requestsInFlight + 16, tls: tls)
    }
}
