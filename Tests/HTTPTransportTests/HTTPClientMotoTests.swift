import HTTPTransport
import TestSupport
import Testing

/// Real HTTP exchanges with the moto server (`scripts/with-moto.sh`).
@Suite("HTTPClient against moto", .enabled(if: MotoEnvironment.isAvailable, "needs scripts/with-moto.sh"))
struct HTTPClientMotoTests {
    private var moto: MotoEnvironment { MotoEnvironment.current! }

    @Test func getReturnsStatusHeadersAndBody() async throws {
        let client = HTTPClient()
        let response = try await client.execute(HTTPRequest(method: .get, url: moto.endpoint + "/moto-api/"))
        #expect(response.status == 200)
        #expect(!response.body.isEmpty)
        #expect(response.header("content-type") != nil, "headers are parsed and looked up case-insensitively")
        #expect(response.header("CONTENT-TYPE") == response.header("Content-Type"))
    }

    @Test func errorStatusIsAResponseNotAnError() async throws {
        let client = HTTPClient()
        let response = try await client.execute(
            HTTPRequest(method: .get, url: moto.endpoint + "/moto-api/no-such-page"))
        #expect(response.status == 404)
    }

    @Test func headHasNoBody() async throws {
        let client = HTTPClient()
        let response = try await client.execute(HTTPRequest(method: .head, url: moto.endpoint + "/moto-api/"))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test func manyConcurrentRequestsAllSucceed() async throws {
        let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 8))
        let url = moto.endpoint + "/moto-api/"
        let first = try await client.execute(HTTPRequest(method: .get, url: url))
        let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let response = try await client.execute(HTTPRequest(method: .get, url: url))
                    return (response.status, response.body.count)
                }
            }
            var results: [(Int, Int)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(statuses.count == 64)
        #expect(statuses.allSatisfy { $0.0 == 200 })
        #expect(statuses.allSatisfy { $0.1 == first.body.count }, "every body arrives whole")
    }
}
