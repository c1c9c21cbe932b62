import ChunkStore
import HTTPTransport
import Testing

/// The four S3 examples of AWS's SigV4 documentation ("Signature Calculations for the Authorization Header:
/// Transferring Payload in a Single Chunk"), checked offline: moto does not check `x-amz-content-sha256`.
@Suite("SigV4 test vectors")
struct SigV4VectorTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var name: String
        var method: String
        var path: String
        var query: [(String, String)] = []
        var headers: [HTTPHeader] = []
        var payloadHash = SigV4.emptyPayloadHash
        var signedHeaders = "host;x-amz-content-sha256;x-amz-date"
        var canonicalHash: String
        var signature: String
        var testDescription: String { name }
    }

    static let signer = SigV4(
        credentials: AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let date = AWSDate(timestamp: "20130524T000000Z")
    static let host = "examplebucket.s3.amazonaws.com"

    static let vectors = [
        Vector(
            name: "GET object", method: "GET", path: "/test.txt", headers: [HTTPHeader("Range", "bytes=0-9")],
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
            canonicalHash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        Vector(
            name: "PUT object", method: "PUT", path: "/" + SigV4.encodePath("test$file.text"),
            headers: [
                HTTPHeader("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                HTTPHeader("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            canonicalHash: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        Vector(
            name: "GET bucket lifecycle", method: "GET", path: "/", query: [("lifecycle", "")],
            canonicalHash: "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        Vector(
            name: "GET bucket (list objects)", method: "GET", path: "/", query: [("max-keys", "2"), ("prefix", "J")],
            canonicalHash: "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ]

    private static func sign(_ vector: Vector, payloadHash: String? = nil) -> [HTTPHeader] {
        signer.sign(
            method: vector.method, host: host, path: vector.path, query: vector.query, headers: vector.headers,
            payloadHash: payloadHash ?? vector.payloadHash, date: date)
    }

    private static func authorization(_ headers: [HTTPHeader]) -> String {
        headers.first { $0.name == "Authorization" }?.value ?? ""
    }

    @Test(arguments: vectors)
    func signatureMatchesAWS(vector: Vector) throws {
        let headers = Self.sign(vector)
        let authorization = Self.authorization(headers)
        #expect(
            authorization.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "))
        #expect(authorization.contains("SignedHeaders=\(vector.signedHeaders),"))
        #expect(authorization.hasSuffix("Signature=\(vector.signature)"), "got \(authorization)")
        #expect(vector.signedHeaders.split(separator: ";").contains("x-amz-content-sha256"))
        #expect(headers.contains(HTTPHeader("x-amz-content-sha256", vector.payloadHash)))
        #expect(headers.contains(HTTPHeader("x-amz-date", "20130524T000000Z")))
        #expect(headers.contains(HTTPHeader("Host", Self.host)))
    }

    @Test(arguments: vectors)
    func canonicalRequestMatchesAWS(vector: Vector) {
        let signed = Self.sign(vector).filter { $0.name != "Authorization" }
        let (request, signedHeaders) = SigV4.canonicalRequest(
            method: vector.method, path: vector.path, query: vector.query, headers: signed,
            payloadHash: vector.payloadHash)
        #expect(signedHeaders == vector.signedHeaders)
        #expect(
            Digest.hex(Digest.sha256(Array(request.utf8))) == vector.canonicalHash, "canonical request:\n\(request)")
    }

    @Test(arguments: vectors)
    func payloadHashIsPartOfTheSignature(vector: Vector) {
        let original = Self.authorization(Self.sign(vector))
        let altered = Self.authorization(Self.sign(vector, payloadHash: String(repeating: "0", count: 64)))
        #expect(original != altered)
    }

    @Test func encodingFollowsTheSpecification() {
        let (request, _) = SigV4.canonicalRequest(
            method: "GET", path: "/", query: [("prefix", "a/b c"), ("list-type", "2"), ("b", "~x*")], headers: [],
            payloadHash: SigV4.emptyPayloadHash)
        let lines = request.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[2] == "b=~x%2A&list-type=2&prefix=a%2Fb%20c", "query sorted by name, values fully encoded")
        #expect(SigV4.encode("a/b c+d=é") == "a%2Fb%20c%2Bd%3D%C3%A9")
        #expect(SigV4.encodePath("dir/a b/c$d") == "dir/a%20b/c%24d", "slashes kept in paths")
        #expect(SigV4.encode("AZaz09-_.~") == "AZaz09-_.~")
    }

    @Test func sessionTokenIsSigned() {
        let signer = SigV4(
            credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token"),
            region: "us-east-1")
        let headers = signer.sign(
            method: "GET", host: Self.host, path: "/", query: [], headers: [], payloadHash: SigV4.emptyPayloadHash,
            date: Self.date)
        #expect(headers.contains(HTTPHeader("x-amz-security-token", "token")))
        #expect(
            Self.authorization(headers).contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
    }

    @Test func dateHasBothForms() {
        #expect(Self.date.day == "20130524")
        let now = AWSDate.now().timestamp
        #expect(now.count == 16 && now.hasSuffix("Z") && Array(now)[8] == "T")
    }
}
