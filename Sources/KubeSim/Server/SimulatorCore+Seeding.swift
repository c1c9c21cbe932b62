/// Creating objects in-process: fixtures, the Swift API, the synthetic cluster.
extension SimulatorCore {
    /// The resource type serving `kind` in `apiVersion`.
    func type(kind: String, apiVersion: String) -> (ResourceType, String)? {
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let group = parts.count == 2 ? parts[0] : ""
        guard let version = parts.last else { return nil }
        return store.types().first { $0.kind == kind && $0.group == group && $0.versions.contains(version) }.map {
            ($0, version)
        }
    }

    /// Creates one object as a POST would, returning the stored object.
    func createObject(_ object: JSONValue) throws -> JSONValue {
        let kind = object["kind"]?.stringValue ?? ""
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        guard let (type, version) = type(kind: kind, apiVersion: apiVersion) else {
            throw KubeSimError.unknownKind(kind: kind, apiVersion: apiVersion)
        }
        var object = object
        if type.namespaced && (object["metadata"]?["namespace"]?.stringValue ?? "").isEmpty {
            object["metadata"]?["namespace"] = "default"
        }
        object["metadata"]?["resourceVersion"] = nil
        let namespace = type.namespaced ? object["metadata"]?["namespace"]?.stringValue : nil
        let route = Route.ResourceRoute(
            group: type.group, version: version, resource: type.resource, namespace: namespace)
        let request = SimRequest(
            method: "POST", uri: "/", headers: [("Content-Type", "application/json")], body: object.encoded())
        let handlers = ResourceHandlers(core: self, type: type, target: route, request: request)
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        do throws(APIError) {
            guard case .body(_, _, let bytes, _) = try handlers.create() else { return .null }
            return (try? JSONValue.parse(bytes)) ?? .null
        } catch {
            throw KubeSimError.rejected(name: name, kind: kind, message: error.message)
        }
    }

    /// Creates objects in dependency order: CRDs, namespaces, then the rest; namespaces they name are created first.
    func load(_ objects: [JSONValue]) throws -> Int {
        func rank(_ object: JSONValue) -> Int {
            switch object["kind"]?.stringValue {
            case "CustomResourceDefinition": 0
            case "Namespace": 1
            default: 2
            }
        }
        let ordered = objects.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
        var created = 0
        for (_, object) in ordered {
            if rank(object) == 1, let name = object["metadata"]?["name"]?.stringValue, store.namespaceExists(name) {
                continue
            }
            if rank(object) == 2, let namespace = object["metadata"]?["namespace"]?.stringValue, !namespace.isEmpty,
                !store.namespaceExists(namespace)
            {
                _ = try createObject([
                    "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)],
                ])
            }
            _ = try createObject(object)
            created += 1
        }
        return created
    }

    /// Generates a synthetic cluster straight into the store.
    func generate(_ options: SyntheticCluster.Options) -> SyntheticCluster.Summary {
        let first = store.reserveRevisions(SyntheticCluster.objectCount(options))
        let (batches, summary) = SyntheticCluster.generate(options, firstVersion: first)
        for type in SyntheticCluster.customTypes { store.registerType(type) }
        store.insertMany(batches)
        return summary
    }

    /// What GET `path` returns, without HTTP.
    func objectBytes(at path: String) -> [UInt8]? {
        guard case .resource(let target) = Route.parse(path), target.name != nil,
            let type = store.resolve(group: target.group, version: target.version, resource: target.resource)
        else { return nil }
        let request = SimRequest(method: "GET", uri: path, headers: [], body: [])
        let handlers = ResourceHandlers(core: self, type: type, target: target, request: request)
        guard case .body(200, _, let bytes, _)? = try? handlers.get() else { return nil }
        return bytes
    }
}
