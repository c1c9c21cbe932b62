/// One stored object: its pre-encoded JSON body and, beside it, the metadata the server filters and sorts on.
///
/// The body is the object without `kind` and `apiVersion` (a list of built-in kinds serves it as is; a single object
/// or a custom resource gets the type prefix spliced in front), always starting with `{` and never empty. Immutable,
/// so lists and watches read it without a lock.
final class StoredObject: Sendable {
    /// "namespace/name" for namespaced objects, "name" otherwise: etcd key order.
    let key: String
    /// "" for cluster-scoped objects.
    let namespace: String
    let name: String
    let uid: String
    let resourceVersion: UInt64
    let labels: [String: String]
    /// Values of the type's selectable fields other than metadata.name/namespace (e.g. "status.phase").
    let fields: [String: String]
    let body: [UInt8]
    /// Where the digits of metadata.resourceVersion sit in `body`.
    let versionRange: Range<Int>

    init(
        namespace: String, name: String, uid: String, resourceVersion: UInt64, labels: [String: String],
        fields: [String: String], body: [UInt8], versionRange: Range<Int>
    ) {
        self.key = namespace.isEmpty ? name : namespace + "/" + name
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.labels = labels
        self.fields = fields
        self.body = body
        self.versionRange = versionRange
    }

    /// The same object with another resourceVersion, spliced into the bytes without re-encoding.
    func withResourceVersion(_ version: UInt64) -> StoredObject {
        let digits = Array(String(version).utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + digits.count - versionRange.count)
        bytes.append(contentsOf: body[..<versionRange.lowerBound])
        bytes.append(contentsOf: digits)
        bytes.append(contentsOf: body[versionRange.upperBound...])
        return StoredObject(
            namespace: namespace, name: name, uid: uid, resourceVersion: version, labels: labels, fields: fields,
            body: bytes, versionRange: versionRange.lowerBound..<(versionRange.lowerBound + digits.count))
    }

    /// The parsed body (for updates and patches).
    func parsed() -> JSONValue {
        (try? JSONValue.parse(body)) ?? .object([:])
    }

    func fieldValue(_ field: String) -> String? {
        switch field {
        case "metadata.name": name
        case "metadata.namespace": namespace
        default: fields[field]
        }
    }

    /// Builds a stored object from a complete object value (kind/apiVersion are dropped from the bytes).
    static func encode(_ object: JSONValue, type: ResourceType) -> StoredObject {
        var members = object.objectValue ?? [:]
        members["kind"] = nil
        members["apiVersion"] = nil
        let metadata = members["metadata"]?.objectValue ?? [:]
        var labels: [String: String] = [:]
        for (key, value) in metadata["labels"]?.objectValue ?? [:] { labels[key] = value.stringValue ?? "" }
        var fields: [String: String] = [:]
        for field in SelectableFields.extra(for: type) {
            switch object.value(at: field) {
            case .string(let text)?: fields[field] = text
            case .number(let literal)?: fields[field] = literal
            case .bool(let flag)?: fields[field] = flag ? "true" : "false"
            default: break
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        var versionRange = 0..<0
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            if key == "metadata" {
                versionRange = writeMetadata(metadata, to: &bytes)
            } else {
                JSONWriter.write(members[key]!, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
        let version = UInt64(metadata["resourceVersion"]?.stringValue ?? "") ?? 0
        return StoredObject(
            namespace: metadata["namespace"]?.stringValue ?? "", name: metadata["name"]?.stringValue ?? "",
            uid: metadata["uid"]?.stringValue ?? "", resourceVersion: version, labels: labels, fields: fields,
            body: bytes, versionRange: versionRange)
    }

    /// Writes the metadata object (which must hold a resourceVersion) and returns where its digits went.
    private static func writeMetadata(_ metadata: [String: JSONValue], to bytes: inout [UInt8]) -> Range<Int> {
        var range = 0..<0
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            if key == "resourceVersion", case .string(let digits) = metadata[key]! {
                bytes.append(UInt8(ascii: "\""))
                let start = bytes.count
                bytes.append(contentsOf: digits.utf8)
                range = start..<bytes.count
                bytes.append(UInt8(ascii: "\""))
            } else {
                JSONWriter.write(metadata[key]!, to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return range
    }
}

/// Field selectors the real server supports beyond metadata.name and metadata.namespace.
enum SelectableFields {
    static func extra(for type: ResourceType) -> [String] {
        switch type.key {
        case "pods":
            [
                "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
            ]
        case "secrets": ["type"]
        case "namespaces": ["status.phase"]
        case "nodes": ["spec.unschedulable"]
        case "events":
            [
                "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                "reportingComponent", "source", "type",
            ]
        case "jobs.batch": ["status.successful"]
        case "replicasets.apps": ["status.replicas"]
        default: []
        }
    }

    static func supported(for type: ResourceType) -> Set<String> {
        Set(["metadata.name", "metadata.namespace"] + extra(for: type))
    }
}
