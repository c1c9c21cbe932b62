import ChunkStore
import HTTPTransport
import TestSupport
import Testing

/// Wrong buckets and keys against moto give errors that say what is wrong.
@Suite("S3 errors", .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct S3ErrorTests {
    @Test func missingBucketIsBucketNotFound() async throws {
        let client = HTTPClient()
        let bucket = MotoEnvironment.uniqueBucketName("never-created")
        let store = try MotoBucket.store(bucket, client: client)
        for operation in ["checkAccess", "get", "list"] {
            let error = await #expect(throws: S3Error.self, "\(operation)") {
                switch operation {
                case "checkAccess": try await store.checkAccess()
                case "get": _ = try await store.get("config")
                default: _ = try await store.listAll(prefix: "")
                }
            }
            guard case .bucketNotFound(let reported, let endpoint)? = error else {
                Issue.record("\(operation): expected bucketNotFound, got \(String(describing: error))")
                continue
            }
            #expect(reported == bucket)
            #expect(endpoint == MotoBucket.environment.endpoint)
        }
        let openError = await #expect(throws: S3Error.self) { try await Repository.open(store) }
        #expect(caseName(openError) == "bucketNotFound")
    }

    @Test(arguments: [
        ("wrong-secret", "SignatureDoesNotMatch"), ("unknown-key", "InvalidAccessKeyId"),
    ])
    func badCredentialsAreAccessDenied(kind: String, expectedCode: String) async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("auth", client: client)
        let good = MotoBucket.credentials
        let credentials =
            kind == "wrong-secret"
            ? AWSCredentials(accessKeyID: good.accessKeyID, secretAccessKey: good.secretAccessKey + "x")
            : AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: good.secretAccessKey)
        let store = try MotoBucket.store(bucket, client: client, credentials: credentials)
        for operation in ["checkAccess", "put"] {
            let error = await #expect(throws: S3Error.self, "\(operation)") {
                if operation == "put" { try await store.put("k", [1]) } else { try await store.checkAccess() }
            }
            guard case .accessDenied(let code, _, let reported)? = error else {
                Issue.record("\(operation): expected accessDenied, got \(String(describing: error))")
                continue
            }
            #expect(code == expectedCode)
            #expect(reported == bucket)
        }
        let goodStore = try MotoBucket.store(bucket, client: client)
        #expect(try await goodStore.size(of: "k") == nil, "a refused put stored nothing")
    }
}

@Suite("S3 retries")
struct S3RetryTests {
    @Test func closedPortIsUnreachableAfterRetries() async throws {
        let location = try S3Location(parsing: "s3://some-bucket?endpoint=http://127.0.0.1:1")
        let store = S3ObjectStore(
            location: location, credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"),
            client: HTTPClient(), retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        let error = await #expect(throws: S3Error.self) { try await store.checkAccess() }
        guard case .unreachable(let endpoint, let reason)? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(endpoint == "http://127.0.0.1:1")
        #expect(!reason.isEmpty)
        let getError = await #expect(throws: S3Error.self) { try await store.get("k") }
        #expect(caseName(getError) == "unreachable")
    }

    @Test func retryPolicyBoundsItsDelays() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 0..<10 {
            let delay = policy.delay(beforeRetry: attempt)
            #expect(delay >= .zero && delay <= .seconds(1))
        }
        #expect(policy.delay(retryAfter: "3") == .seconds(1), "Retry-After is capped at the maximum delay")
        #expect(policy.delay(retryAfter: " 0 ") == .zero)
        #expect(policy.delay(retryAfter: "soon") == nil)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
        #expect([429, 500, 503, 408].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 401, 403, 404, 409, 501].contains(where: RetryPolicy.isRetryable(status:)))
    }
}
