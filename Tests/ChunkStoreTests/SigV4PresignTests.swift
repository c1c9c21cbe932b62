import ChunkStore
import Foundation
import HTTPTransport
import TestSupport
import Testing

@Suite("SigV4 presigned URLs")
struct SigV4PresignTests {
    /// AWS's documented example of a presigned GET ("Authenticating Requests: Using Query Parameters"): the same
    /// key, time, region and 86400 s lifetime give the signature the documentation prints.
    @Test("AWS's documented presigned GET example")
    func documentedExample() {
        let signer = SigV4(
            credentials: AWSCredentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let url = signer.presignedURL(
            scheme: "https", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", expires: 86400,
            date: AWSDate(timestamp: "20130524T000000Z"))
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test("a session token is signed into the query")
    func sessionToken() {
        let signer = SigV4(
            credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "tok/en"),
            region: "eu-west-1")
        let url = signer.presignedURL(
            scheme: "http", host: "h:9000", path: "/b/k", expires: 60, date: AWSDate(timestamp: "20240101T000000Z"))
        #expect(url.contains("X-Amz-Security-Token=tok%2Fen&"))
        #expect(url.hasPrefix("http://h:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
    }
}

/// Presigned URLs fetched from moto (signature checking on) with no credentials at all.
@Suite("SigV4 presigned URLs against moto", .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct SigV4PresignMotoTests {
    @Test("a presigned GET serves the object to a plain HTTP client; a tampered or foreign one is refused")
    func presignedGet() async throws {
        let client = HTTPClient()
        let bucket = try await MotoBucket.create("presign", client: client)
        let store = try MotoBucket.store(bucket, prefix: "some/prefix", client: client)
        let bytes = Array("a file with spaces & symbols: ü\n".utf8) + (0..<1000).map { UInt8($0 % 251) }
        try await store.put("downloads/my-backup_1/logs.gz", bytes)

        let url = try store.presignedGetURL("downloads/my-backup_1/logs.gz", expires: 600)
        let response = try await client.execute(HTTPRequest(method: .get, url: url, headers: []))
        #expect(response.status == 200, "\(response.text)")
        #expect(response.body == bytes)

        // Signed a while ago and still within its lifetime: served (the check is made at the signing time).
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let earlier = AWSDate(timestamp: formatter.string(from: Date().addingTimeInterval(-90)))
        let older = try store.presignedGetURL("downloads/my-backup_1/logs.gz", expires: 600, date: earlier)
        let olderResponse = try await client.execute(HTTPRequest(method: .get, url: older, headers: []))
        #expect(olderResponse.status == 200, "\(olderResponse.text)")

        // The same URL with a longer lifetime than was signed: refused.
        let tampered = url.replacingOccurrences(of: "X-Amz-Expires=600", with: "X-Amz-Expires=6000")
        #expect(try await client.execute(HTTPRequest(method: .get, url: tampered, headers: [])).status == 403)
        // Signed with a secret that is not the user's: refused.
        let foreign = try MotoBucket.store(
            bucket, prefix: "some/prefix", client: client,
            credentials: AWSCredentials(
                accessKeyID: MotoBucket.environment.accessKey, secretAccessKey: "not-the-secret"))
        let forged = try foreign.presignedGetURL("downloads/my-backup_1/logs.gz", expires: 600)
        #expect(try await client.execute(HTTPRequest(method: .get, url: forged, headers: [])).status == 403)
        // Signed long ago for a minute: expired, refused.
        let stale = try store.presignedGetURL(
            "downloads/my-backup_1/logs.gz", expires: 60, date: AWSDate(timestamp: "20200101T000000Z"))
        #expect(try await client.execute(HTTPRequest(method: .get, url: stale, headers: [])).status == 403)
        // Without any signature: refused.
        let bare = String(url.prefix { $0 != "?" })
        #expect(try await client.execute(HTTPRequest(method: .get, url: bare, headers: [])).status == 403)
    }
}
