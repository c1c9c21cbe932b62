import ChunkStore
import HTTPTransport

/// Buckets and stores on the moto server of this test run.
public enum MotoBucket {
    public struct CreationFailed: Error, CustomStringConvertible {
        let bucket: String
        let status: Int
        let body: String
        public var description: String { "creating bucket '\(bucket)' failed with HTTP \(status): \(body)" }
    }

    public static var environment: MotoEnvironment { MotoEnvironment.current! }

    public static var credentials: AWSCredentials {
        AWSCredentials(accessKeyID: environment.accessKey, secretAccessKey: environment.secretKey)
    }

    /// Creates a fresh bucket with a signed path-style `PUT /bucket` and returns its name.
    public static func create(_ label: String, client: HTTPClient) async throws -> String {
        let bucket = MotoEnvironment.uniqueBucketName(label)
        let signer = SigV4(credentials: credentials, region: "us-east-1")
        let path = "/" + bucket
        let headers = signer.sign(
            method: "PUT", host: environment.authority, path: path, query: [], headers: [],
            payloadHash: SigV4.emptyPayloadHash, date: .now())
        let response = try await client.execute(
            HTTPRequest(method: .put, url: environment.endpoint + path, headers: headers, body: []))
        guard response.status == 200 else {
            throw CreationFailed(bucket: bucket, status: response.status, body: response.text)
        }
        return bucket
    }

    /// The parsed location of `bucket` (and `prefix`) on moto.
    public static func location(_ bucket: String, prefix: String = "") throws -> S3Location {
        let path = prefix.isEmpty ? bucket : bucket + "/" + prefix
        return try S3Location(parsing: "s3://\(path)?endpoint=\(environment.endpoint)")
    }

    /// A store in `bucket` with the test credentials (or others, to test failures).
    public static func store(
        _ bucket: String, prefix: String = "", client: HTTPClient, credentials: AWSCredentials? = nil,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10))
    ) throws -> S3ObjectStore {
        S3ObjectStore(
            location: try location(bucket, prefix: prefix), credentials: credentials ?? self.credentials,
            client: client,
            retry: retry)
    }
}
