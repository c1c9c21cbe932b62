/// The discovery documents, in the real server's shapes.
enum Discovery {
    static func version(_ version: KubeSimConfiguration.ServerVersion) -> JSONValue {
        [
            "major": .string(version.major), "minor": .string(version.minor),
            "gitVersion": .string("v\(version.major).\(version.minor).\(version.patch)"),
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64",
        ]
    }

    /// GET /api
    static func coreVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    /// Groups other than core, built-in ones in the real order, then custom groups by name.
    static func groups(_ types: [ResourceType]) -> [(name: String, versions: [String])] {
        var versionsByGroup: [String: Set<String>] = [:]
        for type in types where !type.group.isEmpty {
            versionsByGroup[type.group, default: []].formUnion(type.versions)
        }
        let builtIn = ResourceType.builtInGroupOrder.filter { versionsByGroup[$0] != nil }
        let custom = versionsByGroup.keys.filter { !ResourceType.builtInGroupOrder.contains($0) }.sorted()
        return (builtIn + custom).map { ($0, KubeVersionOrder.sorted(Array(versionsByGroup[$0]!))) }
    }

    private static func groupDocument(name: String, versions: [String]) -> JSONValue {
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return [
            "name": .string(name), "versions": .array(entries),
            "preferredVersion": entries.first ?? .null,
        ]
    }

    /// GET /apis
    static func groupList(_ types: [ResourceType]) -> JSONValue {
        [
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": .array(groups(types).map { groupDocument(name: $0.name, versions: $0.versions) }),
        ]
    }

    /// GET /apis/{group}, nil for an unknown group.
    static func group(_ name: String, _ types: [ResourceType]) -> JSONValue? {
        guard let found = groups(types).first(where: { $0.name == name }) else { return nil }
        var document = groupDocument(name: found.name, versions: found.versions)
        document["kind"] = "APIGroup"
        document["apiVersion"] = "v1"
        return document
    }

    /// GET /api/v1 or /apis/{group}/{version}, nil when nothing is served there.
    static func resourceList(group: String, version: String, _ types: [ResourceType]) -> JSONValue? {
        let served = types.filter { $0.group == group && $0.versions.contains(version) }.sorted {
            $0.resource < $1.resource
        }
        guard !served.isEmpty else { return nil }
        let resources: [JSONValue] = served.map { type in
            var entry: [String: JSONValue] = [
                "name": .string(type.resource), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            return .object(entry)
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ]
    }
}
