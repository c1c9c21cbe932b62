/// What the server does to an object before storing it: decode, check, default, validate, stamp.
enum ObjectPreparation {
    /// Metadata only the server sets; dropped from what clients send.
    static let serverOwnedMetadata = ["selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"]

    static func parseBody(_ request: SimRequest, type: ResourceType) throws(APIError) -> JSONValue {
        let contentType = request.headers["content-type"] ?? "application/json"
        let value: JSONValue
        if contentType.contains("yaml") {
            do {
                let documents = try YAMLConversion.documents(String(decoding: request.body, as: UTF8.self))
                guard documents.count == 1 else { throw APIError.badRequest("expected exactly one YAML document") }
                value = documents[0]
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError.badRequest("couldn't decode YAML body: \(error)")
            }
        } else if contentType.hasPrefix(ProtobufBodies.contentType) {
            value = try ProtobufBodies.decode(request.body, type: type)
        } else {
            do { value = try JSONValue.parse(request.body) } catch {
                throw APIError.badRequest("couldn't decode body as JSON: \(error)")
            }
        }
        guard case .object = value else {
            throw APIError.badRequest("the body must be a JSON object, e.g. {\"metadata\":{\"name\":\"…\"}}")
        }
        try checkTypeMeta(value, type: type)
        return value
    }

    /// A body's kind and apiVersion, when present, must be the resource's.
    static func checkTypeMeta(_ object: JSONValue, type: ResourceType) throws(APIError) {
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw APIError.badRequest(
                "\(kind) in version \"\(object["apiVersion"]?.stringValue ?? "")\" cannot be handled as a "
                    + "\(type.kind): the kind in the body does not match the resource \(type.key)")
        }
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty,
            !type.versions.contains(where: { type.apiVersion($0) == apiVersion })
        {
            throw APIError.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version "
                    + "(\(type.apiVersion()))")
        }
    }

    /// The URL's namespace wins: a different one in the body is 400; cluster-scoped objects have none.
    static func placeInNamespace(_ metadata: inout [String: JSONValue], urlNamespace: String, type: ResourceType)
        throws(APIError)
    {
        guard type.namespaced else {
            metadata["namespace"] = nil
            return
        }
        if let given = metadata["namespace"]?.stringValue, !given.isEmpty, given != urlNamespace {
            throw APIError.badRequest(
                "the namespace of the provided object does not match the namespace sent on the request")
        }
        metadata["namespace"] = .string(urlNamespace)
    }

    /// Keeps what a client may not change on update: identity, creation time; bumps generation on spec changes.
    static func carryOverServerFields(
        _ updated: inout JSONValue, from existing: JSONValue, name: String, namespace: String
    ) {
        var metadata = updated["metadata"]?.objectValue ?? [:]
        let old = existing["metadata"]?.objectValue ?? [:]
        metadata["name"] = .string(name)
        metadata["namespace"] = namespace.isEmpty ? nil : .string(namespace)
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            metadata[field] = old[field]
        }
        metadata["selfLink"] = nil
        metadata["managedFields"] = nil
        metadata["resourceVersion"] = "0"
        if case .number(let literal)? = old["generation"], let generation = Int(literal),
            specification(of: updated) != specification(of: existing)
        {
            metadata["generation"] = .number(String(generation + 1))
        }
        updated["metadata"] = .object(metadata)
    }

    /// Everything but metadata, status and type metadata: what a generation counts.
    private static func specification(of object: JSONValue) -> [String: JSONValue] {
        var members = object.objectValue ?? [:]
        for key in ["metadata", "status", "kind", "apiVersion"] { members[key] = nil }
        return members
    }

    /// Server-side defaults; returns the resource type a CustomResourceDefinition adds.
    static func applyDefaults(_ object: inout JSONValue, type: ResourceType, name: String, previous: JSONValue?)
        throws(APIError) -> ResourceType?
    {
        switch type.key {
        case "namespaces":
            var labels = object["metadata"]?["labels"]?.objectValue ?? [:]
            labels["kubernetes.io/metadata.name"] = .string(name)
            object["metadata"]?["labels"] = .object(labels)
            if object["spec"]?["finalizers"] == nil {
                var spec = object["spec"]?.objectValue ?? [:]
                spec["finalizers"] = ["kubernetes"]
                object["spec"] = .object(spec)
            }
            var status = object["status"]?.objectValue ?? [:]
            status["phase"] = object["metadata"]?["deletionTimestamp"] == nil ? "Active" : "Terminating"
            object["status"] = .object(status)
            return nil
        case CustomResources.definitionKey:
            let defined = try CustomResources.resourceType(from: object, name: name, definitionType: type)
            let since =
                previous?["status"]?["conditions"]?.arrayValue?.first?["lastTransitionTime"]?.stringValue
                ?? Timestamp.now()
            object["status"] = CustomResources.acceptedStatus(for: defined, definition: object, now: since)
            return defined
        default:
            return nil
        }
    }

    /// Name and label validation; 422 Invalid with one cause per problem.
    static func validate(_ object: JSONValue, type: ResourceType, name: String, generateName: String) throws(APIError) {
        var causes: [APIError.Cause] = []
        if name.isEmpty {
            causes.append(APIError.required(field: "metadata.name", "name or generateName is required"))
        } else {
            for problem in type.nameRule.problems(name) {
                causes.append(APIError.invalidValue(field: "metadata.name", value: name, problem))
            }
        }
        for (key, value) in object["metadata"]?["labels"]?.objectValue ?? [:] {
            for problem in Validation.labelKey(key) {
                causes.append(APIError.invalidValue(field: "metadata.labels", value: key, problem))
            }
            guard case .string(let text) = value else {
                causes.append(
                    APIError.invalidValue(field: "metadata.labels", value: key, "label values must be strings"))
                continue
            }
            for problem in Validation.labelValue(text) {
                causes.append(APIError.invalidValue(field: "metadata.labels", value: text, problem))
            }
        }
        if !causes.isEmpty { throw APIError.invalid(type, name.isEmpty ? generateName : name, causes) }
    }
}

/// RFC 6902 JSON Patch (`kubectl patch --type=json`).
enum JSONPatch {
    static func apply(_ patch: JSONValue, to document: JSONValue) throws(APIError) -> JSONValue {
        guard case .array(let operations) = patch else { throw APIError.badRequest("a JSON patch must be an array") }
        var result = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw APIError.badRequest("a JSON patch operation needs \"op\" and \"path\"")
            }
            let pointer = try tokens(path)
            switch op {
            case "add": result = try set(result, pointer[...], operation["value"] ?? .null, insert: true)
            case "replace":
                _ = try get(result, pointer[...])
                result = try set(result, pointer[...], operation["value"] ?? .null, insert: false)
            case "remove": result = try remove(result, pointer[...])
            case "test":
                guard try get(result, pointer[...]) == operation["value"] else {
                    throw APIError(code: 422, reason: "Invalid", message: "test operation failed at \(path)")
                }
            case "move", "copy":
                let from = try tokens(operation["from"]?.stringValue ?? "")
                let value = try get(result, from[...])
                if op == "move" { result = try remove(result, from[...]) }
                result = try set(result, pointer[...], value, insert: true)
            default: throw APIError.badRequest("unknown JSON patch operation \"\(op)\"")
            }
        }
        return result
    }

    private static func tokens(_ path: String) throws(APIError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw APIError.badRequest("invalid JSON pointer \"\(path)\"") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0.replacing("~1", with: "/").replacing("~0", with: "~"))
        }
    }

    private static func get(_ value: JSONValue, _ pointer: ArraySlice<String>) throws(APIError) -> JSONValue {
        guard let first = pointer.first else { return value }
        switch value {
        case .object(let members):
            guard let child = members[first] else {
                throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
            }
            return try get(child, pointer.dropFirst())
        case .array(let elements):
            guard let index = Int(first), elements.indices.contains(index) else {
                throw APIError(code: 422, reason: "Invalid", message: "index out of range: \(first)")
            }
            return try get(elements[index], pointer.dropFirst())
        default: throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
        }
    }

    private static func set(_ value: JSONValue, _ pointer: ArraySlice<String>, _ newValue: JSONValue, insert: Bool)
        throws(APIError) -> JSONValue
    {
        guard let first = pointer.first else { return newValue }
        let last = pointer.count == 1
        switch value {
        case .object(var members):
            if last {
                members[first] = newValue
            } else {
                guard let child = members[first] else {
                    throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
                }
                members[first] = try set(child, pointer.dropFirst(), newValue, insert: insert)
            }
            return .object(members)
        case .array(var elements):
            let index = first == "-" ? elements.count : Int(first) ?? -1
            guard index >= 0 && index <= elements.count else {
                throw APIError(code: 422, reason: "Invalid", message: "index out of range: \(first)")
            }
            if last && insert {
                elements.insert(newValue, at: index)
            } else {
                guard index < elements.count else {
                    throw APIError(code: 422, reason: "Invalid", message: "index out of range: \(first)")
                }
                elements[index] =
                    last ? newValue : try set(elements[index], pointer.dropFirst(), newValue, insert: insert)
            }
            return .array(elements)
        default: throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
        }
    }

    private static func remove(_ value: JSONValue, _ pointer: ArraySlice<String>) throws(APIError) -> JSONValue {
        guard let first = pointer.first else { throw APIError.badRequest("cannot remove the whole document") }
        switch value {
        case .object(var members):
            guard let child = members[first] else {
                throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
            }
            members[first] = pointer.count == 1 ? nil : try remove(child, pointer.dropFirst())
            return .object(members)
        case .array(var elements):
            guard let index = Int(first), elements.indices.contains(index) else {
                throw APIError(code: 422, reason: "Invalid", message: "index out of range: \(first)")
            }
            if pointer.count == 1 {
                elements.remove(at: index)
            } else {
                elements[index] = try remove(elements[index], pointer.dropFirst())
            }
            return .array(elements)
        default: throw APIError(code: 422, reason: "Invalid", message: "path not found: \(first)")
        }
    }
}
