extension CustomResources {
    /// The resource type a CustomResourceDefinition defines, or 422 Invalid with the real server's causes.
    static func resourceType(from definition: JSONValue, name: String, definitionType: ResourceType) throws(APIError)
        -> ResourceType
    {
        let spec = definition["spec"] ?? .object([:])
        let names = spec["names"] ?? .object([:])
        var causes: [APIError.Cause] = []
        let group = spec["group"]?.stringValue ?? ""
        let plural = names["plural"]?.stringValue ?? ""
        let kind = names["kind"]?.stringValue ?? ""
        let scope = spec["scope"]?.stringValue ?? ""
        if group.isEmpty {
            causes.append(APIError.required(field: "spec.group", ""))
        } else if !group.contains(".") {
            causes.append(
                APIError.invalidValue(field: "spec.group", value: group, "should be a domain with at least one dot"))
        }
        if plural.isEmpty { causes.append(APIError.required(field: "spec.names.plural", "")) }
        if kind.isEmpty { causes.append(APIError.required(field: "spec.names.kind", "")) }
        if !group.isEmpty && !plural.isEmpty && name != plural + "." + group {
            causes.append(
                APIError.invalidValue(field: "metadata.name", value: name, "must be spec.names.plural+\".\"+spec.group")
            )
        }
        if scope != "Namespaced" && scope != "Cluster" {
            causes.append(
                APIError.Cause(
                    reason: "FieldValueNotSupported",
                    message: "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\"",
                    field: "spec.scope"))
        }
        let versions = spec["versions"]?.arrayValue ?? []
        let served = versions.filter { $0["served"]?.boolValue ?? false }.compactMap { $0["name"]?.stringValue }
        let storage = versions.filter { $0["storage"]?.boolValue ?? false }
        if versions.isEmpty {
            causes.append(
                APIError.required(field: "spec.versions", "must have exactly one version marked as storage version"))
        } else if storage.count != 1 {
            causes.append(
                APIError.invalidValue(
                    field: "spec.versions", value: "\(storage.count)",
                    "must have exactly one version marked as storage version"))
        }
        guard causes.isEmpty else { throw APIError.invalid(definitionType, name, causes) }
        return ResourceType(
            group: group, versions: KubeVersionOrder.sorted(served), resource: plural,
            singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind,
            namespaced: scope == "Namespaced",
            shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [], isCustom: true,
            listKind: names["listKind"]?.stringValue)
    }

    /// The status the real server sets once a definition is accepted: names accepted, established.
    static func acceptedStatus(for type: ResourceType, definition: JSONValue, now: String) -> JSONValue {
        var accepted: [String: JSONValue] = [
            "kind": .string(type.kind), "listKind": .string(type.listKind), "plural": .string(type.resource),
            "singular": .string(type.singular),
        ]
        if !type.shortNames.isEmpty { accepted["shortNames"] = .array(type.shortNames.map { .string($0) }) }
        if !type.categories.isEmpty { accepted["categories"] = .array(type.categories.map { .string($0) }) }
        let storage = definition["spec"]?["versions"]?.arrayValue?.first { $0["storage"]?.boolValue ?? false }
        let storedVersion = storage?["name"] ?? .string(type.preferredVersion)
        func condition(_ kind: String, _ reason: String, _ message: String) -> JSONValue {
            [
                "type": .string(kind), "status": "True", "reason": .string(reason), "message": .string(message),
                "lastTransitionTime": .string(now),
            ]
        }
        return [
            "acceptedNames": .object(accepted),
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "storedVersions": [storedVersion],
        ]
    }
}
