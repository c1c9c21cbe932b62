import Foundation

/// The metadata velero-cas reads from every object.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var deletionTimestamp: String?
    public var creationTimestamp: String?

    public init(
        name: String? = nil, generateName: String? = nil, namespace: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// One Kubernetes object: its JSON exactly as the server sent it (with `apiVersion` and `kind` added when a typed
/// list left them out) and its decoded metadata.
public struct KubeObject: Sendable {
    public var json: [UInt8]
    public var metadata: ObjectMeta
    public var apiVersion: String
    public var kind: String

    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace.flatMap { $0.isEmpty ? nil : $0 } }

    /// Parses an object, filling `apiVersion`/`kind` from the list it came in when the item lacks them.
    public init(json bytes: [UInt8], apiVersion listVersion: String? = nil, kind listKind: String? = nil) throws {
        let (json, metadata, apiVersion, kind) = try bytes.withUnsafeBytes { raw in
            let members = try JSONScanner.members(of: raw)
            func string(_ name: String) -> String? {
                guard let range = members.first(where: { $0.name == name })?.value, range.count >= 2,
                    raw[range.lowerBound] == UInt8(ascii: "\"")
                else { return nil }
                return String(
                    decoding: UnsafeRawBufferPointer(rebasing: raw[range.lowerBound + 1..<range.upperBound - 1]),
                    as: UTF8.self)
            }
            var metadata = ObjectMeta()
            if let range = members.first(where: { $0.name == "metadata" })?.value {
                metadata = try JSONDecoder().decode(
                    ObjectMeta.self, from: Data(UnsafeRawBufferPointer(rebasing: raw[range])))
            }
            var json = bytes
            let apiVersion = string("apiVersion") ?? listVersion ?? ""
            let kind = string("kind") ?? listKind ?? ""
            var prefix = ""
            if string("apiVersion") == nil && !apiVersion.isEmpty { prefix += #""apiVersion":"\#(apiVersion)","# }
            if string("kind") == nil && !kind.isEmpty { prefix += #""kind":"\#(kind)","# }
            if !prefix.isEmpty, let open = json.firstIndex(of: UInt8(ascii: "{")) {
                if members.isEmpty { prefix.removeLast() }
                json.insert(contentsOf: Array(prefix.utf8), at: open + 1)
            }
            return (json, metadata, apiVersion, kind)
        }
        self.json = json
        self.metadata = metadata
        self.apiVersion = apiVersion
        self.kind = kind
    }
}

/// A page of a LIST.
public struct ListPage: Sendable {
    public var items: [KubeObject]
    public var resourceVersion: String
    /// The token for the next page, or nil when this was the last.
    public var continueToken: String?

    /// Slices a List response into its items without re-encoding them.
    public init(listJSON bytes: [UInt8], apiVersion: String, kind: String) throws {
        struct ListMeta: Decodable {
            var resourceVersion: String?
            var `continue`: String?
        }
        var meta = ListMeta()
        var items: [KubeObject] = []
        try bytes.withUnsafeBytes { raw in
            let members = try JSONScanner.members(of: raw)
            if let range = members.first(where: { $0.name == "metadata" })?.value {
                meta = try JSONDecoder().decode(ListMeta.self, from: Data(UnsafeRawBufferPointer(rebasing: raw[range])))
            }
            if let range = members.first(where: { $0.name == "items" })?.value,
                raw[range.lowerBound] == UInt8(ascii: "[")
            {
                for element in try JSONScanner.elements(of: raw, in: range) {
                    items.append(try KubeObject(json: Array(raw[element]), apiVersion: apiVersion, kind: kind))
                }
            }
        }
        self.items = items
        resourceVersion = meta.resourceVersion ?? ""
        continueToken = meta.continue.flatMap { $0.isEmpty ? nil : $0 }
    }
}
