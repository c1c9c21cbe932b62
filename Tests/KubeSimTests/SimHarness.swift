import Foundation
import HTTPTransport
import KubeSim
import Testing

/// A started simulator plus an HTTP client pointed at it; every test gets its own.
struct SimHarness: Sendable {
    let server: KubeSimServer
    let client: HTTPClient
    var token: String?

    var baseURL: String { server.baseURL }

    /// Starts a server, runs `body`, shuts the server down even when `body` throws.
    static func with<T: Sendable>(
        _ configuration: KubeSimConfiguration = KubeSimConfiguration(), token: String? = nil,
        _ body: (SimHarness) async throws -> T
    ) async throws -> T {
        let server = try await KubeSimServer.start(configuration)
        let harness = SimHarness(server: server, client: HTTPClient(), token: token)
        do {
            let result = try await body(harness)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    func request(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String? = nil,
        token overrideToken: String?? = nil, timeout: Duration? = nil
    ) async throws -> HTTPResponse {
        var headers = [HTTPHeader("Accept", "application/json")]
        if let contentType { headers.append(HTTPHeader("Content-Type", contentType)) }
        if let bearer = overrideToken ?? token { headers.append(HTTPHeader("Authorization", "Bearer \(bearer)")) }
        return try await client.execute(
            HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: timeout))
    }

    func get(_ path: String) async throws -> HTTPResponse { try await request(.get, path) }

    func post(_ path: String, _ object: JSONValue) async throws -> HTTPResponse {
        try await request(.post, path, body: object.encoded(), contentType: "application/json")
    }

    func put(_ path: String, _ object: JSONValue) async throws -> HTTPResponse {
        try await request(.put, path, body: object.encoded(), contentType: "application/json")
    }

    func patch(_ path: String, _ patch: JSONValue, type: String = "application/merge-patch+json") async throws
        -> HTTPResponse
    {
        try await request(.patch, path, body: patch.encoded(), contentType: type)
    }

    func delete(_ path: String) async throws -> HTTPResponse { try await request(.delete, path) }

    /// GET that must succeed, parsed.
    func getJSON(_ path: String) async throws -> JSONValue {
        let response = try await get(path)
        #expect(response.status == 200, "GET \(path): \(response.text)")
        return try response.json()
    }
}

extension HTTPResponse {
    func json() throws -> JSONValue { try JSONValue.parse(body) }

    /// Checks a Status failure body: kind, status, code and reason.
    func expectStatus(_ code: Int, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(status == code, "expected \(code), got \(status): \(text)", sourceLocation: sourceLocation)
        let body = try json()
        #expect(body["kind"] == "Status", sourceLocation: sourceLocation)
        #expect(body["apiVersion"] == "v1", sourceLocation: sourceLocation)
        #expect(body["status"] == "Failure", sourceLocation: sourceLocation)
        #expect(body["code"] == .number(String(code)), sourceLocation: sourceLocation)
        #expect(body["reason"] == .string(reason), "body: \(text)", sourceLocation: sourceLocation)
        #expect(body["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
    }
}

/// Small object builders.
enum Objects {
    static func configMap(
        _ name: String, namespace: String? = nil, labels: [String: String] = [:], data: [String: String] = ["k": "v"]
    )
        -> JSONValue
    {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues { .string($0) }) }
        return [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata),
            "data": .object(data.mapValues { .string($0) }),
        ]
    }

    static func namespace(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
    }

    static func deployment(_ name: String, replicas: Int = 1, image: String = "nginx:1.27") -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .number(String(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "web", "image": .string(image)]]],
                ],
            ],
        ]
    }

    static func widgetDefinition(scope: String = "Namespaced", group: String = "stable.example.org") -> JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": .object(["name": .string("gadgets.\(group)")]),
            "spec": [
                "group": .string(group), "scope": .string(scope),
                "names": ["plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]],
                "versions": [
                    ["name": "v1beta1", "served": true, "storage": false],
                    ["name": "v1", "served": true, "storage": true],
                ],
            ],
        ]
    }
}

extension JSONValue {
    /// The names of a list's items, in order.
    var itemNames: [String] {
        (self["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
    }

    /// "namespace/name" of a list's items, in order.
    var itemKeys: [String] {
        (self["items"]?.arrayValue ?? []).map {
            "\($0["metadata"]?["namespace"]?.stringValue ?? "")/\($0["metadata"]?["name"]?.stringValue ?? "")"
        }
    }
}
