import HTTPTransport

/// CRUD and LIST on any resource.
extension KubeClient {
    /// One page of a LIST.
    public func list(
        _ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        limit: Int? = nil, continueToken: String? = nil
    ) async throws -> ListPage {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        let response = try await send(.get, resource.path(namespace: namespace), query: query)
        return try ListPage(listJSON: response.body, apiVersion: resource.groupVersion, kind: resource.kind)
    }

    /// Lists every object page by page, handing each page to `onPage` as it arrives (memory stays flat).
    ///
    /// When a continue token expires mid-way (410 Gone), the list restarts from the beginning and skips what was
    /// already delivered: the server returns objects in (namespace, name) order, so nothing is seen twice.
    public func listAll(
        _ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, pageSize: Int = 500,
        isolation: isolated (any Actor)? = #isolation, onPage: ([KubeObject]) async throws -> Void
    ) async throws {
        var token: String?
        var last: (String, String)?
        var restarts = 0
        while true {
            let page: ListPage
            do {
                page = try await list(
                    resource, namespace: namespace, labelSelector: labelSelector, limit: pageSize, continueToken: token)
            } catch let error as KubeAPIError where error.isExpired && token != nil && restarts < 5 {
                // `continue` here restarts from the first page; `last` skips what was already delivered.
                let position = last.map { "\($0.0)/\($0.1)" } ?? "the start"
                logger.info("continue token for \(resource) expired; restarting the list after \(position)")
                restarts += 1
                token = nil
                continue
            }
            var items = page.items
            if let last {
                items.removeAll { ($0.namespace ?? "", $0.name) <= last }
            }
            if let final = items.last { last = (final.namespace ?? "", final.name) }
            if !items.isEmpty { try await onPage(items) }
            guard let next = page.continueToken else { return }
            token = next
        }
    }

    public func get(_ resource: APIResource, namespace: String?, name: String) async throws -> KubeObject {
        let response = try await send(.get, resource.path(namespace: namespace, name: name))
        return try KubeObject(json: response.body, apiVersion: resource.groupVersion, kind: resource.kind)
    }

    /// Creates an object from its JSON; the server's answer (with uid, resourceVersion…) is returned.
    @discardableResult
    public func create(_ resource: APIResource, namespace: String?, json: [UInt8]) async throws -> KubeObject {
        let response = try await send(.post, resource.path(namespace: namespace), body: json)
        return try KubeObject(json: response.body, apiVersion: resource.groupVersion, kind: resource.kind)
    }

    @discardableResult
    public func replace(_ resource: APIResource, namespace: String?, name: String, json: [UInt8]) async throws
        -> KubeObject
    {
        let response = try await send(.put, resource.path(namespace: namespace, name: name), body: json)
        return try KubeObject(json: response.body, apiVersion: resource.groupVersion, kind: resource.kind)
    }

    /// Applies an RFC 7386 JSON merge patch.
    @discardableResult
    public func mergePatch(_ resource: APIResource, namespace: String?, name: String, patch: [UInt8]) async throws
        -> KubeObject
    {
        let response = try await send(
            .patch, resource.path(namespace: namespace, name: name), body: patch,
            contentType: "application/merge-patch+json")
        return try KubeObject(json: response.body, apiVersion: resource.groupVersion, kind: resource.kind)
    }

    public func delete(_ resource: APIResource, namespace: String?, name: String) async throws {
        _ = try await send(.delete, resource.path(namespace: namespace, name: name))
    }
}
