/// A change to one object, as watches see it.
struct WatchEvent: Sendable {
    enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    let kind: Kind
    let typeKey: String
    /// The object after the change; for a deletion, its last state stamped with the deletion's resourceVersion.
    let object: StoredObject
    /// The object before a modification, so a filtered watch can turn it into ADDED or DELETED.
    let previous: StoredObject?

    var revision: UInt64 { object.resourceVersion }
}

/// Receives the events of one resource type, in revision order, from the store's lock (so it must only enqueue).
protocol WatchSubscriber: AnyObject, Sendable {
    func deliver(_ event: WatchEvent)
    /// The store dropped the subscription (its type was removed).
    func terminate()
}

/// The last N events, oldest first, for watches that resume from a resourceVersion.
struct EventHistory: Sendable {
    private var events: [WatchEvent?]
    private var start = 0
    private(set) var count = 0
    /// Every event with a revision at or below this one may be lost: watches from older versions get 410.
    private(set) var floor: UInt64

    init(capacity: Int, floor: UInt64) {
        events = Array(repeating: nil, count: max(1, capacity))
        self.floor = floor
    }

    mutating func append(_ event: WatchEvent) {
        if count == events.count {
            floor = events[start]!.revision
            events[start] = event
            start = (start + 1) % events.count
        } else {
            events[(start + count) % events.count] = event
            count += 1
        }
    }

    /// Events of `typeKey` newer than `revision`, oldest first.
    func events(after revision: UInt64, typeKey: String) -> [WatchEvent] {
        var result: [WatchEvent] = []
        for offset in 0..<count {
            let event = events[(start + offset) % events.count]!
            if event.revision > revision && event.typeKey == typeKey { result.append(event) }
        }
        return result
    }

    mutating func clear(floor newFloor: UInt64) {
        events = Array(repeating: nil, count: events.count)
        start = 0
        count = 0
        floor = max(floor, newFloor)
    }
}
