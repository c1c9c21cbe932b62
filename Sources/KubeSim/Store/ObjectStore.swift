import Synchronization

/// All objects, the resource types, the global resourceVersion counter, the event history and the watchers.
///
/// One mutex guards it all; every operation under it is short (binary search, array insert, a byte splice for the
/// resourceVersion). Encoding, parsing and list serialization happen outside, on immutable `StoredObject`s.
final class ObjectStore: Sendable {
    struct Snapshot: Sendable {
        let items: [StoredObject]
        let revision: UInt64
    }

    enum WatchStart {
        case initial(Snapshot)
        case replay([WatchEvent])
        case expired(APIError)
    }

    enum UpdateOutcome {
        case updated(StoredObject)
        /// The object changed since it was read: read it again and retry.
        case changed
    }

    private struct State: Sendable {
        var revision: UInt64
        var types: [String: ResourceType] = [:]
        var collections: [String: ResourceCollection] = [:]
        var history: EventHistory
        var subscribers: [String: [ObjectIdentifier: any WatchSubscriber]] = [:]
        var compactedRevision: UInt64 = 0
        var compactions = 0
        var snapshots: [String: Snapshot] = [:]
        var snapshotOrder: [String] = []

        mutating func record(_ event: WatchEvent) {
            history.append(event)
            if let subscribers = subscribers[event.typeKey] {
                for subscriber in subscribers.values { subscriber.deliver(event) }
            }
        }

        mutating func nextRevision() -> UInt64 {
            revision += 1
            return revision
        }

        func namespaceExists(_ namespace: String) -> Bool {
            collections["namespaces"]?.object(forKey: namespace) != nil
        }

        func namespaceTerminating(_ namespace: String) -> Bool {
            collections["namespaces"]?.object(forKey: namespace)?.fields["status.phase"] == "Terminating"
        }
    }

    private let state: Mutex<State>
    static let maximumSnapshots = 32

    init(initialRevision: UInt64, historyCapacity: Int) {
        var initial = State(revision: initialRevision, history: EventHistory(capacity: historyCapacity, floor: 0))
        for type in ResourceType.builtIn { initial.types[type.key] = type }
        state = Mutex(initial)
    }

    // MARK: - Types

    var revision: UInt64 { state.withLock { $0.revision } }
    var compactedRevision: UInt64 { state.withLock { $0.compactedRevision } }
    /// How many times `compact()` ran; continue tokens from an earlier count are expired.
    var compactions: Int { state.withLock { $0.compactions } }

    func types() -> [ResourceType] { state.withLock { Array($0.types.values) } }

    func type(forKey key: String) -> ResourceType? { state.withLock { $0.types[key] } }

    /// The type served at /apis/{group}/{version}/{resource}.
    func resolve(group: String, version: String, resource: String) -> ResourceType? {
        let key = group.isEmpty ? resource : resource + "." + group
        return state.withLock { state in
            guard let type = state.types[key], type.versions.contains(version) else { return nil }
            return type
        }
    }

    // MARK: - Reads

    func get(_ type: ResourceType, key: String) -> StoredObject? {
        state.withLock { $0.collections[type.key]?.object(forKey: key) }
    }

    func snapshot(_ type: ResourceType) -> Snapshot {
        state.withLock { Snapshot(items: $0.collections[type.key]?.items ?? [], revision: $0.revision) }
    }

    func count(typeKey: String?, namespace: String? = nil) -> Int {
        state.withLock { state in
            let collections =
                typeKey.map { key in state.collections[key].map { [$0] } ?? [] }
                ?? Array(state.collections.values)
            return collections.reduce(0) { total, collection in
                total + ResourceCollection.range(of: namespace, in: collection.items).count
            }
        }
    }

    func namespaceExists(_ namespace: String) -> Bool { state.withLock { $0.namespaceExists(namespace) } }

    /// Keeps a list snapshot for the continue tokens of a paginated list.
    func remember(_ snapshot: Snapshot, typeKey: String) {
        let key = "\(typeKey)@\(snapshot.revision)"
        state.withLock { state in
            guard state.snapshots[key] == nil else { return }
            state.snapshots[key] = snapshot
            state.snapshotOrder.append(key)
            if state.snapshotOrder.count > Self.maximumSnapshots {
                state.snapshots[state.snapshotOrder.removeFirst()] = nil
            }
        }
    }

    func rememberedSnapshot(typeKey: String, revision: UInt64) -> Snapshot? {
        state.withLock { $0.snapshots["\(typeKey)@\(revision)"] }
    }

    /// Forgets every event and list snapshot up to now: older continue tokens and watch versions get 410 Gone.
    func compact() {
        state.withLock { state in
            state.compactedRevision = state.revision
            state.compactions += 1
            state.history.clear(floor: state.revision)
            state.snapshots.removeAll()
            state.snapshotOrder.removeAll()
        }
    }

    // MARK: - Writes

    /// Stores a new object, stamping the next resourceVersion. `registering` adds a resource type (a CRD).
    func create(_ type: ResourceType, _ prepared: StoredObject, registering: ResourceType? = nil) throws(APIError)
        -> StoredObject
    {
        try state.withLock { state throws(APIError) in
            guard state.types[type.key] != nil else { throw APIError.unknownPath }
            if type.namespaced && !state.namespaceExists(prepared.namespace) {
                throw APIError.namespaceNotFound(prepared.namespace)
            }
            if type.namespaced && state.namespaceTerminating(prepared.namespace) {
                throw APIError.namespaceTerminating(type, prepared.name, namespace: prepared.namespace)
            }
            if state.collections[type.key]?.object(forKey: prepared.key) != nil {
                throw APIError.alreadyExists(type, prepared.name)
            }
            let object = prepared.withResourceVersion(state.nextRevision())
            state.collections[type.key, default: ResourceCollection()].upsert(object)
            if let registering { state.types[registering.key] = registering }
            state.record(WatchEvent(kind: .added, typeKey: type.key, object: object, previous: nil))
            return object
        }
    }

    /// Replaces an object if it still has `expectedVersion`.
    func update(
        _ type: ResourceType, _ prepared: StoredObject, expectedVersion: UInt64, registering: ResourceType? = nil
    ) throws(APIError) -> UpdateOutcome {
        try state.withLock { state throws(APIError) in
            guard let current = state.collections[type.key]?.object(forKey: prepared.key) else {
                throw APIError.notFound(type, prepared.name)
            }
            guard current.resourceVersion == expectedVersion else { return .changed }
            let object = prepared.withResourceVersion(state.nextRevision())
            state.collections[type.key]!.upsert(object)
            if let registering { state.types[registering.key] = registering }
            state.record(WatchEvent(kind: .modified, typeKey: type.key, object: object, previous: current))
            return .updated(object)
        }
    }

    /// Removes an object and returns it as it was. A namespace takes its objects along; a CRD its type and objects.
    ///
    /// A namespace with `metadata.finalizers` is not removed at once: like a real one it turns Terminating (a
    /// deletionTimestamp, status.phase Terminating, its objects removed, new ones refused with 403) and is removed
    /// when an update takes its last finalizer away (`finalized: true`).
    func delete(
        _ type: ResourceType, key: String, name: String, precondition: (uid: String?, version: String?),
        finalized: Bool = false
    )
        throws(APIError) -> StoredObject
    {
        try state.withLock { state throws(APIError) in
            guard let current = state.collections[type.key]?.object(forKey: key) else {
                throw APIError.notFound(type, name)
            }
            if let uid = precondition.uid, uid != current.uid {
                throw APIError.conflict(
                    type, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)")
            }
            if let version = precondition.version, version != String(current.resourceVersion) {
                throw APIError.conflict(
                    type, name,
                    "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object "
                        + "meta: \(current.resourceVersion)")
            }
            var terminating: StoredObject?
            if type.key == "namespaces" && !finalized {
                var object = current.parsed()
                if object["metadata"]?["finalizers"]?.arrayValue?.isEmpty == false {
                    if object["metadata"]?["deletionTimestamp"] == nil {
                        object["metadata"]?["deletionTimestamp"] = .string(Timestamp.now())
                        object["metadata"]?["deletionGracePeriodSeconds"] = 0
                    }
                    object["status"] = ["phase": "Terminating"]
                    terminating = StoredObject.encode(object, type: type)
                }
            }
            if type.key == "namespaces" {
                let typeKeys = state.collections.keys.filter { typeKey in
                    state.types[typeKey]?.namespaced == true
                        && !ResourceCollection.range(of: name, in: state.collections[typeKey]!.items).isEmpty
                }
                for typeKey in typeKeys {
                    for removed in state.collections[typeKey]!.removeAll(in: name) {
                        let stamped = removed.withResourceVersion(state.nextRevision())
                        state.record(WatchEvent(kind: .deleted, typeKey: typeKey, object: stamped, previous: nil))
                    }
                }
            } else if type.key == CustomResources.definitionKey {
                Self.removeType(key: name, from: &state)
            }
            if let terminating {
                let object = terminating.withResourceVersion(state.nextRevision())
                state.collections[type.key]!.upsert(object)
                state.record(WatchEvent(kind: .modified, typeKey: type.key, object: object, previous: current))
                return object
            }
            state.collections[type.key]!.remove(key: key)
            let stamped = current.withResourceVersion(state.nextRevision())
            state.record(WatchEvent(kind: .deleted, typeKey: type.key, object: stamped, previous: nil))
            return current
        }
    }

    private static func removeType(key: String, from state: inout State) {
        guard let type = state.types[key], type.isCustom else { return }
        for removed in state.collections[key]?.items ?? [] {
            let stamped = removed.withResourceVersion(state.nextRevision())
            state.record(WatchEvent(kind: .deleted, typeKey: key, object: stamped, previous: nil))
        }
        state.types[key] = nil
        state.collections[key] = nil
        if let subscribers = state.subscribers.removeValue(forKey: key) {
            for subscriber in subscribers.values { subscriber.terminate() }
        }
    }

    /// Adds many objects whose resourceVersions were already reserved: generation and fixtures.
    func insertMany(_ batches: [(ResourceType, [StoredObject])]) {
        state.withLock { state in
            for (type, objects) in batches {
                if type.isCustom && state.types[type.key] == nil { state.types[type.key] = type }
                let replaced = state.collections[type.key, default: ResourceCollection()].insertMany(objects)
                let replacedKeys = Set(replaced.map(\.key))
                for object in objects {
                    let kind: WatchEvent.Kind = replacedKeys.contains(object.key) ? .modified : .added
                    state.record(WatchEvent(kind: kind, typeKey: type.key, object: object, previous: nil))
                }
            }
        }
    }

    /// Reserves `count` consecutive resourceVersions and returns the first.
    func reserveRevisions(_ count: Int) -> UInt64 {
        state.withLock { state in
            let first = state.revision + 1
            state.revision += UInt64(count)
            return first
        }
    }

    func registerType(_ type: ResourceType) {
        state.withLock { $0.types[type.key] = type }
    }

    // MARK: - Watches

    /// Registers `subscriber` and returns, atomically with that, where its stream starts: the current objects (no
    /// version, or "0"), the events after `version`, or 410 when those events are no longer kept.
    func subscribe(_ type: ResourceType, from version: UInt64?, subscriber: any WatchSubscriber) -> WatchStart {
        state.withLock { state in
            let start: WatchStart
            if let version {
                if version < state.history.floor || version < state.compactedRevision {
                    return .expired(
                        APIError.resourceVersionTooOld(
                            version, oldest: max(state.history.floor, state.compactedRevision)))
                }
                start = .replay(state.history.events(after: version, typeKey: type.key))
            } else {
                start = .initial(Snapshot(items: state.collections[type.key]?.items ?? [], revision: state.revision))
            }
            state.subscribers[type.key, default: [:]][ObjectIdentifier(subscriber)] = subscriber
            return start
        }
    }

    /// Watches registered now, across all types.
    var watcherCount: Int { state.withLock { $0.subscribers.values.reduce(0) { $0 + $1.count } } }

    func unsubscribe(typeKey: String, _ subscriber: any WatchSubscriber) {
        _ = state.withLock { $0.subscribers[typeKey]?.removeValue(forKey: ObjectIdentifier(subscriber)) }
    }
}

enum CustomResources {
    static let definitionKey = "customresourcedefinitions.apiextensions.k8s.io"
}
