import NIOCore

/// What the core answers; the HTTP layer writes it.
enum SimResponse: Sendable {
    case body(status: Int, contentType: String, bytes: [UInt8], headers: [(String, String)])
    case list(ListBody)
    case watch(WatchPlan)

    static func json(_ status: Int, _ value: JSONValue) -> SimResponse {
        .body(status: status, contentType: "application/json", bytes: value.encoded(), headers: [])
    }

    static func json(_ status: Int, bytes: [UInt8]) -> SimResponse {
        .body(status: status, contentType: "application/json", bytes: bytes, headers: [])
    }

    static func text(_ status: Int, _ text: String) -> SimResponse {
        .body(status: status, contentType: "text/plain; charset=utf-8", bytes: Array(text.utf8), headers: [])
    }

    static func error(_ error: APIError) -> SimResponse {
        var headers: [(String, String)] = []
        if let retryAfter = error.retryAfterSeconds { headers.append(("Retry-After", String(retryAfter))) }
        return .body(
            status: error.code, contentType: "application/json", bytes: error.status.encoded(), headers: headers)
    }

    var status: Int {
        switch self {
        case .body(let status, _, _, _): status
        case .list, .watch: 200
        }
    }
}

/// A list response: header, item bodies (never re-encoded), footer. Streamed in pieces by the HTTP layer.
struct ListBody: Sendable {
    /// `{"kind":"PodList","apiVersion":"v1","metadata":{...},"items":[`
    let header: [UInt8]
    let items: [StoredObject]
    /// For custom resources, `{"apiVersion":"g/v","kind":"K",` replaces each item's opening brace.
    let itemPrefix: [UInt8]?
    /// `]}`
    let footer: [UInt8]

    var contentLength: Int {
        var total = header.count + footer.count + max(0, items.count - 1)
        let prefixExtra = itemPrefix.map { $0.count - 1 } ?? 0
        for item in items { total += item.body.count + prefixExtra }
        return total
    }

    /// Appends items from `index` until `buffer` reaches `limit` bytes; returns the next index.
    func writeItems(from index: Int, into buffer: inout ByteBuffer, limit: Int) -> Int {
        var index = index
        while index < items.count && buffer.readableBytes < limit {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            let body = items[index].body
            if let itemPrefix {
                buffer.writeBytes(itemPrefix)
                buffer.writeBytes(body[1...])
            } else {
                buffer.writeBytes(body)
            }
            index += 1
        }
        return index
    }
}

/// A watch to start on the connection that asked for it.
struct WatchPlan: Sendable {
    let type: ResourceType
    let version: String
    let namespace: String?
    let labelSelector: LabelSelector
    let fieldSelector: FieldSelector
    /// nil: send the current objects as ADDED first.
    let fromRevision: UInt64?
    let timeout: Duration?
}
