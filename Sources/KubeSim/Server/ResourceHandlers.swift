/// GET, LIST, WATCH, POST, PUT, PATCH and DELETE on one resource path.
struct ResourceHandlers {
    let core: SimulatorCore
    let type: ResourceType
    let target: Route.ResourceRoute
    let request: SimRequest

    var store: ObjectStore { core.store }
    var namespace: String { type.namespaced ? target.namespace ?? "" : "" }
    var dryRun: Bool { request.query["dryRun"] == "All" }

    func key(_ name: String) -> String { type.namespaced ? namespace + "/" + name : name }

    /// `{"apiVersion":"…","kind":"…",` — spliced in front of a stored body to make a complete object.
    var typePrefix: [UInt8] { ObjectBytes.typePrefix(type, version: target.version) }

    func full(_ object: StoredObject) -> [UInt8] { ObjectBytes.full(object, prefix: typePrefix) }

    // MARK: - Reads

    func get() throws(APIError) -> SimResponse {
        let name = target.name!
        guard let object = store.get(type, key: key(name)) else { throw APIError.notFound(type, name) }
        return .json(200, bytes: full(object))
    }

    func selectors() throws(APIError) -> (LabelSelector, FieldSelector) {
        do {
            let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
            let fields = try FieldSelector(
                parsing: request.query["fieldSelector"] ?? "", supported: SelectableFields.supported(for: type))
            return (labels, fields)
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    func list() throws(APIError) -> SimResponse {
        let (labelSelector, fieldSelector) = try selectors()
        let limit = max(0, Int(request.query["limit"] ?? "") ?? 0)
        var snapshot: ObjectStore.Snapshot
        var startKey: String?
        var issued = ContinueToken.nowMilliseconds()
        var compactions = store.compactions
        if let tokenText = request.query["continue"], !tokenText.isEmpty {
            guard let token = ContinueToken(decoding: tokenText) else {
                throw APIError.badRequest("continue key is not valid: illegal base64 data or unsupported version")
            }
            let window = core.configuration.compactionWindow
            let age = Duration.milliseconds(issued - token.issuedMilliseconds)
            if token.revision < store.compactedRevision || token.compactions != store.compactions || age > window {
                throw APIError.continueExpired
            }
            snapshot =
                store.rememberedSnapshot(typeKey: type.key, revision: token.revision)
                ?? ObjectStore.Snapshot(items: store.snapshot(type).items, revision: token.revision)
            startKey = token.start
            issued = token.issuedMilliseconds
            compactions = token.compactions
        } else {
            snapshot = store.snapshot(type)
        }
        let items = snapshot.items
        let range = ResourceCollection.range(of: type.namespaced ? target.namespace : nil, in: items)
        var index = startKey.map { ResourceCollection.lowerBound($0, in: items, range) } ?? range.lowerBound
        let filtered = !labelSelector.isEmpty || !fieldSelector.isEmpty
        var page: [StoredObject] = []
        if !filtered && limit == 0 {
            page = Array(items[index..<range.upperBound])
            index = range.upperBound
        } else {
            while index < range.upperBound && (limit == 0 || page.count < limit) {
                let object = items[index]
                index += 1
                if filtered
                    && !(labelSelector.matches(object.labels) && fieldSelector.matches({ object.fieldValue($0) }))
                {
                    continue
                }
                page.append(object)
            }
        }
        var metadata = "{\"resourceVersion\":\"\(snapshot.revision)\""
        if index < range.upperBound, let last = page.last {
            let token = ContinueToken(
                revision: snapshot.revision, start: last.key + "\u{0}", issuedMilliseconds: issued,
                compactions: compactions)
            metadata += ",\"continue\":\"\(token.encoded())\""
            if !filtered { metadata += ",\"remainingItemCount\":\(range.upperBound - index)" }
            store.remember(snapshot, typeKey: type.key)
        }
        metadata += "}"
        let header =
            "{\"kind\":\"\(type.listKind)\",\"apiVersion\":\"\(type.apiVersion(target.version))\","
            + "\"metadata\":\(metadata),\"items\":["
        return .list(
            ListBody(
                header: Array(header.utf8), items: page, itemPrefix: type.isCustom ? typePrefix : nil,
                footer: Array("]}".utf8)))
    }

    func watch() throws(APIError) -> SimResponse {
        let (labelSelector, fieldSelector) = try selectors()
        var from: UInt64?
        if let text = request.query["resourceVersion"], !text.isEmpty, text != "0" {
            guard let version = UInt64(text) else {
                throw APIError.badRequest("invalid resource version \"\(text)\"")
            }
            from = version
        }
        let timeout = request.query["timeoutSeconds"].flatMap { Int($0) }.flatMap {
            $0 > 0 ? Duration.seconds($0) : nil
        }
        return .watch(
            WatchPlan(
                type: type, version: target.version, namespace: type.namespaced ? target.namespace : nil,
                labelSelector: labelSelector, fieldSelector: fieldSelector, fromRevision: from, timeout: timeout))
    }

    // MARK: - Writes

    func create() throws(APIError) -> SimResponse {
        var object = try ObjectPreparation.parseBody(request, type: type)
        var metadata = object["metadata"]?.objectValue ?? [:]
        try ObjectPreparation.placeInNamespace(&metadata, urlNamespace: namespace, type: type)
        if let version = metadata["resourceVersion"]?.stringValue, !version.isEmpty {
            throw APIError.badRequest("resourceVersion should not be set on objects to be created")
        }
        let givenName = metadata["name"]?.stringValue ?? ""
        let generateName = metadata["generateName"]?.stringValue ?? ""
        let attempts = givenName.isEmpty && !generateName.isEmpty ? 8 : 1
        for attempt in 1...attempts {
            let name =
                givenName.isEmpty && !generateName.isEmpty ? generateName + Identifiers.randomSuffix() : givenName
            metadata["name"] = .string(name)
            metadata["uid"] = .string(Identifiers.uuid())
            metadata["creationTimestamp"] = .string(Timestamp.now())
            metadata["resourceVersion"] = "0"
            for field in ObjectPreparation.serverOwnedMetadata { metadata[field] = nil }
            object["metadata"] = .object(metadata)
            if object["spec"] != nil || type.isCustom { object["metadata"]?["generation"] = 1 }
            let registering = try ObjectPreparation.applyDefaults(&object, type: type, name: name, previous: nil)
            try ObjectPreparation.validate(object, type: type, name: name, generateName: generateName)
            let prepared = StoredObject.encode(object, type: type)
            if dryRun { return .json(201, bytes: full(prepared)) }
            do {
                let stored = try store.create(type, prepared, registering: registering)
                return .json(201, bytes: full(stored))
            } catch  where error.reason == "AlreadyExists" && attempt < attempts {
                continue
            }
        }
        throw APIError.internalError("could not generate a unique name")
    }

    func update() throws(APIError) -> SimResponse {
        let name = target.name!
        var object = try ObjectPreparation.parseBody(request, type: type)
        var metadata = object["metadata"]?.objectValue ?? [:]
        let bodyName = metadata["name"]?.stringValue ?? ""
        if !bodyName.isEmpty && bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        try ObjectPreparation.placeInNamespace(&metadata, urlNamespace: namespace, type: type)
        object["metadata"] = .object(metadata)
        let requested = metadata["resourceVersion"]?.stringValue ?? ""
        return try replace(name) { current, existing throws(APIError) in
            if !requested.isEmpty && requested != String(current.resourceVersion) {
                throw APIError.conflict(type, name)
            }
            return object
        }
    }

    func patch() throws(APIError) -> SimResponse {
        let name = target.name!
        let contentType = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmed } ?? ""
        let patch: JSONValue
        do { patch = try JSONValue.parse(request.body) } catch {
            throw APIError.badRequest("error decoding patch: \(error)")
        }
        let apply: (JSONValue) throws(APIError) -> JSONValue
        switch contentType {
        case "application/merge-patch+json": apply = { $0.mergePatched(with: patch) }
        case "application/strategic-merge-patch+json": apply = { $0.strategicMergePatched(with: patch) }
        case "application/json-patch+json":
            apply = { existing throws(APIError) in try JSONPatch.apply(patch, to: existing) }
        default: throw APIError.unsupportedMediaType(contentType)
        }
        let requested = patch["metadata"]?["resourceVersion"]?.stringValue ?? ""
        return try replace(name) { current, existing throws(APIError) in
            if !requested.isEmpty && requested != String(current.resourceVersion) {
                throw APIError.conflict(type, name)
            }
            return try apply(existing)
        }
    }

    /// Read, transform, write back if unchanged meanwhile; retried when another writer got there first.
    private func replace(
        _ name: String, _ transform: (StoredObject, JSONValue) throws(APIError) -> JSONValue
    ) throws(APIError) -> SimResponse {
        for _ in 0..<32 {
            guard let current = store.get(type, key: key(name)) else { throw APIError.notFound(type, name) }
            let existing = current.parsed()
            var updated = try transform(current, existing)
            if target.subresource == "status" {
                var merged = existing
                merged["status"] = updated["status"]
                updated = merged
            }
            try ObjectPreparation.checkTypeMeta(updated, type: type)
            ObjectPreparation.carryOverServerFields(&updated, from: existing, name: name, namespace: namespace)
            let registering = try ObjectPreparation.applyDefaults(&updated, type: type, name: name, previous: existing)
            try ObjectPreparation.validate(updated, type: type, name: name, generateName: "")
            // A terminating namespace whose last finalizer is taken away is gone.
            if type.key == "namespaces", !dryRun, updated["metadata"]?["deletionTimestamp"] != nil,
                updated["metadata"]?["finalizers"]?.arrayValue?.isEmpty ?? true
            {
                let removed = try store.delete(
                    type, key: key(name), name: name, precondition: (nil, String(current.resourceVersion)),
                    finalized: true)
                return .json(200, bytes: full(removed))
            }
            let prepared = StoredObject.encode(updated, type: type)
            if prepared.withResourceVersion(current.resourceVersion).body == current.body || dryRun {
                return .json(200, bytes: full(dryRun ? prepared : current))
            }
            switch try store.update(type, prepared, expectedVersion: current.resourceVersion, registering: registering)
            {
            case .updated(let stored): return .json(200, bytes: full(stored))
            case .changed: continue
            }
        }
        throw APIError.conflict(type, name)
    }

    func delete() throws(APIError) -> SimResponse {
        let name = target.name!
        var uid: String?
        var version: String?
        if !request.body.isEmpty, let options = try? JSONValue.parse(request.body) {
            uid = options["preconditions"]?["uid"]?.stringValue
            version = options["preconditions"]?["resourceVersion"]?.stringValue
            if options["dryRun"]?.arrayValue?.contains("All") == true {
                guard let current = store.get(type, key: key(name)) else { throw APIError.notFound(type, name) }
                return .json(200, bytes: full(current))
            }
        }
        if dryRun {
            guard let current = store.get(type, key: key(name)) else { throw APIError.notFound(type, name) }
            return .json(200, bytes: full(current))
        }
        let removed = try store.delete(type, key: key(name), name: name, precondition: (uid, version))
        return .json(200, bytes: full(removed))
    }

    func deleteCollection() throws(APIError) -> SimResponse {
        let (labelSelector, fieldSelector) = try selectors()
        let items = store.snapshot(type).items
        let range = ResourceCollection.range(of: type.namespaced ? target.namespace : nil, in: items)
        var removed: [StoredObject] = []
        for object in items[range]
        where labelSelector.matches(object.labels) && fieldSelector.matches({ object.fieldValue($0) }) {
            if dryRun {
                removed.append(object)
            } else if let gone = try? store.delete(type, key: object.key, name: object.name, precondition: (nil, nil)) {
                removed.append(gone)
            }
        }
        let header =
            "{\"kind\":\"\(type.listKind)\",\"apiVersion\":\"\(type.apiVersion(target.version))\","
            + "\"metadata\":{\"resourceVersion\":\"\(store.revision)\"},\"items\":["
        return .list(
            ListBody(
                header: Array(header.utf8), items: removed, itemPrefix: type.isCustom ? typePrefix : nil,
                footer: Array("]}".utf8)))
    }
}

/// Splicing type metadata onto stored bodies.
enum ObjectBytes {
    static func typePrefix(_ type: ResourceType, version: String) -> [UInt8] {
        Array("{\"apiVersion\":\"\(type.apiVersion(version))\",\"kind\":\"\(type.kind)\",".utf8)
    }

    static func full(_ object: StoredObject, prefix: [UInt8]) -> [UInt8] {
        var bytes = prefix
        bytes.reserveCapacity(prefix.count + object.body.count)
        bytes.append(contentsOf: object.body[1...])
        return bytes
    }
}
