import HTTPTransport

/// One kind of object the API server serves, as discovery describes it (preferred version only).
public struct APIResource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// "" for the core group.
    public var group: String
    public var version: String
    /// The plural resource name, e.g. "deployments".
    public var name: String
    public var singularName: String
    public var kind: String
    public var namespaced: Bool
    public var verbs: [String]
    public var shortNames: [String]

    public init(
        group: String, version: String, name: String, singularName: String = "", kind: String, namespaced: Bool,
        verbs: [String] = ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: [String] = []
    ) {
        self.group = group
        self.version = version
        self.name = name
        self.singularName = singularName
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = verbs
        self.shortNames = shortNames
    }

    /// "v1" or "apps/v1".
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// "pods" or "deployments.apps", the form Velero's filters and backup layouts use.
    public var qualifiedName: String { group.isEmpty ? name : "\(name).\(group)" }
    public var description: String { qualifiedName }

    public var isListable: Bool { verbs.contains("list") }

    /// The collection path, in a namespace or across all of them (or cluster-scoped).
    public func path(namespace: String? = nil) -> String {
        let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { return "\(base)/namespaces/\(Self.segment(namespace))/\(name)" }
        return "\(base)/\(name)"
    }

    /// The path of one object.
    public func path(namespace: String?, name objectName: String) -> String {
        path(namespace: namespace) + "/" + Self.segment(objectName)
    }

    /// `text` as one path segment. Names come from specs and annotations users write (a Restore's `backupName`, a
    /// hook's pod), so a `/`, `?`, `%` or a name of `.` or `..` must not address another object: such characters are
    /// percent-encoded, and so are the dots of a dot segment. Every name the API server accepts passes unchanged
    /// (`system:admin` included).
    static func segment(_ text: String) -> String {
        if text == "." || text == ".." { return String(repeating: "%2E", count: text.count) }
        return PercentEncoding.encode(text, alsoKeeping: "!$&'()*+,;=:@")
    }

    /// Whether `text` names this resource: plural, singular, kind, short name, or any of those with ".group".
    public func matches(_ text: String) -> Bool {
        let lower = text.lowercased()
        let names = [name, singularName, kind.lowercased()] + shortNames
        if names.contains(lower) { return true }
        guard !group.isEmpty, lower.hasSuffix("." + group) else { return false }
        return names.contains(String(lower.dropLast(group.count + 1)))
    }
}
