import Testing

@testable import ChunkStore

@Suite("S3 locations")
struct S3LocationTests {
    @Test func bucketOnlyDefaultsToAWS() throws {
        let location = try S3Location(parsing: "s3://my-bucket")
        #expect(location.bucket == "my-bucket")
        #expect(location.prefix == "")
        #expect(location.region == "us-east-1")
        #expect(location.endpoint.scheme == "https" && location.endpoint.host == "s3.us-east-1.amazonaws.com")
        #expect(location.endpoint.port == nil)
        #expect(location.addressing == .virtual)
        #expect(location.profile == nil)
        #expect(location.description == "s3://my-bucket")
        #expect(location.hostAndPath(forKey: "chunks/ab/x") == ("my-bucket.s3.us-east-1.amazonaws.com", "/chunks/ab/x"))
    }

    @Test func prefixIsTrimmedAndPrependedToKeys() throws {
        let location = try S3Location(parsing: "s3://bucket/some/prefix/")
        #expect(location.prefix == "some/prefix")
        #expect(location.description == "s3://bucket/some/prefix")
        #expect(location.objectKey("config") == "some/prefix/config")
        #expect(try S3Location(parsing: "s3://bucket/").prefix == "")
    }

    @Test func dottedBucketUsesPathStyle() throws {
        #expect(try S3Location(parsing: "s3://my.dotted.bucket").addressing == .path)
    }

    @Test func allOptionsAreRead() throws {
        let location = try S3Location(
            parsing: "s3://bucket/p?region=eu-west-1&endpoint=http://127.0.0.1:9000/&addressing=virtual&profile=other")
        #expect(location.region == "eu-west-1")
        #expect(location.endpoint == (try S3Location.Endpoint(parsing: "http://127.0.0.1:9000")))
        #expect(location.endpoint.authority == "127.0.0.1:9000")
        #expect(location.addressing == .virtual)
        #expect(location.profile == "other")
        #expect(location.hostAndPath(forKey: location.objectKey("k")) == ("bucket.127.0.0.1:9000", "/p/k"))
        let pathStyle = try S3Location(parsing: "s3://bucket/p?endpoint=http://minio:9000")
        #expect(pathStyle.addressing == .path, "a custom endpoint defaults to path style")
        #expect(pathStyle.hostAndPath(forKey: pathStyle.objectKey("a b")) == ("minio:9000", "/bucket/p/a%20b"))
        #expect(pathStyle.hostAndPath(forKey: nil) == ("minio:9000", "/bucket"))
    }

    @Test func environmentSuppliesDefaults() throws {
        let environment = ["AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://minio.local:9000"]
        let location = try S3Location(parsing: "s3://bucket", environment: environment)
        #expect(location.region == "ap-south-1")
        #expect(location.endpoint.host == "minio.local" && location.endpoint.port == 9000)
        #expect(location.addressing == .path)

        let s3Specific = try S3Location(
            parsing: "s3://bucket",
            environment: environment.merging(["AWS_ENDPOINT_URL_S3": "https://s3.example:8443"]) { $1 })
        #expect(s3Specific.endpoint.host == "s3.example" && s3Specific.endpoint.scheme == "https")
        #expect(
            try S3Location(parsing: "s3://bucket", environment: ["AWS_DEFAULT_REGION": "us-west-2"]).region
                == "us-west-2")
        let overridden = try S3Location(parsing: "s3://bucket?region=eu-north-1", environment: environment)
        #expect(overridden.region == "eu-north-1", "an explicit option beats the environment")
    }

    @Test(arguments: [
        "s3://", "s3://AB", "s3://ab", "s3://bucket?color=red", "s3://bucket?endpoint=ftp://x",
        "s3://bucket?endpoint=http://h:99999", "s3://bucket/../x", "s3://-bucket", "s3://bucket-",
        "s3://bu..cket", "s3://bucket?region=EU_WEST", "s3://bucket?addressing=sideways", "s3://bucket?endpoint=",
        "s3://bucket?endpoint=http://h/path", "s3://bucket/a//b", String("s3://" + String(repeating: "a", count: 64)),
        "http://bucket",
    ])
    func badLocationsAreRejected(url: String) {
        let error = #expect(throws: ChunkStoreError.self) { try S3Location(parsing: url) }
        guard case .invalidStoreLocation(let reported, let reason)? = error else {
            Issue.record("expected invalidStoreLocation, got \(String(describing: error))")
            return
        }
        #expect(!reason.isEmpty)
        #expect(url.contains(reported), "the message quotes the location or its bad endpoint: '\(reported)'")
    }

    @Test func storeLocationDistinguishesLocalAndS3() throws {
        #expect(try StoreLocation(parsing: "/var/backups", environment: [:]) == .local(path: "/var/backups"))
        #expect(try StoreLocation(parsing: "relative/dir", environment: [:]) == .local(path: "relative/dir"))
        let s3 = try StoreLocation(parsing: "s3://bucket/x", environment: [:])
        #expect(s3 == .s3(try S3Location(parsing: "s3://bucket/x")))
        #expect(s3.description == "s3://bucket/x")
        for bad in ["gs://x", "", "file://tmp/x", "s3://"] {
            let error = #expect(throws: ChunkStoreError.self, "\(bad)") {
                try StoreLocation(parsing: bad, environment: [:])
            }
            #expect(caseName(error) == "invalidStoreLocation")
        }
    }
}
