import NIOCore
import NIOHTTP1

/// One watch stream: newline-delimited `{"type":…,"object":…}` events in HTTP chunks.
///
/// The store calls `deliver` under its lock, from any thread; the event is handed to the connection's event loop, where
/// it is filtered (namespace, selectors — a modified object that leaves or enters the selection becomes DELETED or
/// ADDED, as with the real server) and written.
final class WatchConnection: WatchSubscriber {
    private let plan: WatchPlan
    private let store: ObjectStore
    private let eventLoop: any EventLoop
    private let context: NIOLoopBound<ChannelHandlerContext>
    private let ended: NIOLoopBoundBox<Bool>
    private let timeout: NIOLoopBoundBox<Scheduled<Void>?>
    private let prefix: [UInt8]
    private let keepAlive: Bool
    /// Called on the event loop when the stream has ended and the connection stays open for more requests.
    private let idle: NIOLoopBound<() -> Void>

    init(
        plan: WatchPlan, store: ObjectStore, context: ChannelHandlerContext, keepAlive: Bool,
        idle: @escaping () -> Void = {}
    ) {
        self.idle = NIOLoopBound(idle, eventLoop: context.eventLoop)
        self.plan = plan
        self.store = store
        eventLoop = context.eventLoop
        self.context = NIOLoopBound(context, eventLoop: context.eventLoop)
        ended = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        timeout = NIOLoopBoundBox(nil, eventLoop: context.eventLoop)
        prefix = ObjectBytes.typePrefix(plan.type, version: plan.version)
        self.keepAlive = keepAlive
    }

    /// Whether the stream has ended (the connection may serve another request); on the event loop.
    var isEnded: Bool { ended.value }

    /// Registers with the store and writes the initial or replayed events; on the event loop.
    func start() {
        switch store.subscribe(plan.type, from: plan.fromRevision, subscriber: self) {
        case .expired(let error):
            var buffer = context.value.channel.allocator.buffer(capacity: 512)
            buffer.writeString("{\"type\":\"ERROR\",\"object\":")
            buffer.writeBytes(error.status.encoded())
            buffer.writeString("}\n")
            write(buffer, flush: true)
            stop(writeEnd: true)
            return
        case .initial(let snapshot):
            let range = ResourceCollection.range(of: plan.namespace, in: snapshot.items)
            var buffer = context.value.channel.allocator.buffer(capacity: 65_536)
            for object in snapshot.items[range] where matches(object) {
                append(.added, object, to: &buffer)
                if buffer.readableBytes >= 65_536 {
                    write(buffer, flush: false)
                    buffer = context.value.channel.allocator.buffer(capacity: 65_536)
                }
            }
            if buffer.readableBytes > 0 { write(buffer, flush: false) }
            context.value.flush()
        case .replay(let events):
            for event in events { send(event) }
        }
        if let seconds = plan.timeout {
            let nanoseconds =
                seconds.components.seconds * 1_000_000_000 + seconds.components.attoseconds / 1_000_000_000
            let box = NIOLoopBound(self, eventLoop: eventLoop)
            timeout.value = eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { box.value.stop(writeEnd: true) }
        }
    }

    func deliver(_ event: WatchEvent) {
        eventLoop.execute { self.send(event) }
    }

    func terminate() {
        eventLoop.execute { self.stop(writeEnd: true) }
    }

    /// Ends the stream (writing the final chunk unless the connection is gone) and unsubscribes; idempotent.
    func stop(writeEnd: Bool) {
        guard !ended.value else { return }
        ended.value = true
        timeout.value?.cancel()
        store.unsubscribe(typeKey: plan.type.key, self)
        guard writeEnd else { return }
        let context = context.value
        if keepAlive {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            idle.value()
        } else {
            let channel = context.channel
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    private func matches(_ object: StoredObject) -> Bool {
        if let namespace = plan.namespace, object.namespace != namespace { return false }
        return plan.labelSelector.matches(object.labels) && plan.fieldSelector.matches { object.fieldValue($0) }
    }

    private func send(_ event: WatchEvent) {
        guard !ended.value else { return }
        let kind: WatchEvent.Kind
        switch event.kind {
        case .added, .deleted:
            guard matches(event.object) else { return }
            kind = event.kind
        case .modified:
            let now = matches(event.object)
            let before = event.previous.map(matches) ?? now
            switch (before, now) {
            case (true, true): kind = .modified
            case (false, true): kind = .added
            case (true, false): kind = .deleted
            case (false, false): return
            }
        }
        var buffer = context.value.channel.allocator.buffer(capacity: event.object.body.count + 128)
        append(kind, event.object, to: &buffer)
        write(buffer, flush: true)
    }

    private func append(_ kind: WatchEvent.Kind, _ object: StoredObject, to buffer: inout ByteBuffer) {
        buffer.writeString("{\"type\":\"\(kind.rawValue)\",\"object\":")
        buffer.writeBytes(prefix)
        buffer.writeBytes(object.body[1...])
        buffer.writeString("}\n")
    }

    private func write(_ buffer: ByteBuffer, flush: Bool) {
        let part = NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer)))
        if flush {
            context.value.writeAndFlush(part, promise: nil)
        } else {
            context.value.write(part, promise: nil)
        }
    }
}
