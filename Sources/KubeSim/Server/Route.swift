/// A request as the core sees it: method, decoded path, query, headers, body.
struct SimRequest: Sendable {
    var method: String
    var path: String
    var rawQuery: String
    var query: [String: String]
    /// Lower-cased header names.
    var headers: [String: String]
    var body: [UInt8]

    init(method: String, uri: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = QueryString.percentDecode(parts.first.map(String.init) ?? "/", plusIsSpace: false)
        rawQuery = parts.count > 1 ? String(parts[1]) : ""
        query = QueryString.parse(rawQuery)
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    func flag(_ name: String) -> Bool {
        guard let value = query[name] else { return false }
        return value == "1" || value.lowercased() == "true"
    }
}

enum QueryString {
    static func parse(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(String(parts[0]), plusIsSpace: true)
            if result[name] == nil {
                result[name] = parts.count > 1 ? percentDecode(String(parts[1]), plusIsSpace: true) : ""
            }
        }
        return result
    }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) })
        else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where a request goes.
enum Route: Sendable {
    case root
    case version
    case health
    case coreVersions
    case groupList
    case group(String)
    case resourceList(group: String, version: String)
    case resource(ResourceRoute)
    case openAPI
    case sim([String])
    case unknown

    /// An API path naming a resource: /api/v1/..., /apis/{group}/{version}/...
    struct ResourceRoute: Sendable {
        var group: String
        var version: String
        var resource: String
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    static func parse(_ path: String) -> Route {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = segments.first else { return .root }
        switch first {
        case "version": return segments.count == 1 ? .version : .unknown
        case "healthz", "livez", "readyz": return .health
        case "openapi": return .openAPI
        case "sim": return .sim(Array(segments.dropFirst()))
        case "api":
            if segments.count == 1 { return .coreVersions }
            if segments.count == 2 { return .resourceList(group: "", version: segments[1]) }
            return resource(group: "", version: segments[1], Array(segments.dropFirst(2)))
        case "apis":
            switch segments.count {
            case 1: return .groupList
            case 2: return .group(segments[1])
            case 3: return .resourceList(group: segments[1], version: segments[2])
            default: return resource(group: segments[1], version: segments[2], Array(segments.dropFirst(3)))
            }
        default: return .unknown
        }
    }

    private static func resource(group: String, version: String, _ rest: [String]) -> Route {
        var route = ResourceRoute(group: group, version: version, resource: rest[0])
        switch rest.count {
        case 1: break
        case 2: route.name = rest[1]
        case 3:
            if rest[0] == "namespaces" && !["status", "finalize"].contains(rest[2]) {
                route = ResourceRoute(group: group, version: version, resource: rest[2], namespace: rest[1])
            } else {
                route.name = rest[1]
                route.subresource = rest[2]
            }
        case 4, 5:
            guard rest[0] == "namespaces" else { return .unknown }
            route = ResourceRoute(
                group: group, version: version, resource: rest[2], namespace: rest[1], name: rest[3],
                subresource: rest.count == 5 ? rest[4] : nil)
        default: return .unknown
        }
        return .resource(route)
    }
}
