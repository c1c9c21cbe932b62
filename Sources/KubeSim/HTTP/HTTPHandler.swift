import NIOCore
import NIOHTTP1
import NIOWebSocket

/// One connection: collects a request, asks the core, writes the answer — a plain body, a list streamed in pieces
/// with backpressure, or a chunked watch stream. A connection with no request in progress for
/// `KubeSimConfiguration.idleConnectionTimeout` is closed, as a real API server closes idle keep-alive connections.
/// Runs on the connection's event loop only.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    /// Its name in the pipeline (removed by name when a connection upgrades to WebSocket).
    static let name = "kube-sim-http"

    private struct ListProgress {
        let body: ListBody
        var nextItem = 0
        var headerWritten = false
        let keepAlive: Bool
    }

    private let core: SimulatorCore
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var list: ListProgress?
    private var watch: WatchConnection?
    /// Closes the connection once it has been idle for the configured time; cancelled by the next request.
    private var idleClose: Scheduled<Void>?

    init(core: SimulatorCore) {
        self.core = core
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleClose(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleClose?.cancel()
        idleClose = nil
    }

    /// (Re)starts the idle timer: called when the connection opens and when a response has been written whole.
    private func armIdleClose(context: ChannelHandlerContext) {
        idleClose?.cancel()
        idleClose = nil
        guard let timeout = core.configuration.idleConnectionTimeout else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        idleClose = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            let (handler, context) = bound.value
            handler.idleClose = nil
            guard handler.head == nil, handler.list == nil, handler.watch?.isEnded ?? true else { return }
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            idleClose?.cancel()
            idleClose = nil
            if watch?.isEnded == true { watch = nil }
            head = requestHead
            body = nil
            bodyTooLarge = false
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            if body!.readableBytes > core.configuration.maximumRequestBodyBytes {
                bodyTooLarge = true
                body = nil
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let bytes = body.map { Array(buffer: $0) } ?? []
            body = nil
            let request = SimRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: bytes)
            if bodyTooLarge {
                write(.error(.requestTooLarge()), keepAlive: false, context: context)
                return
            }
            let admission = core.admit(request)
            let keepAlive = head.isKeepAlive
            if let gate = core.capacity, admission.takesSeat {
                serveWithinCapacity(request, admission, gate: gate, keepAlive: keepAlive, context: context)
            } else if admission.latency > .zero {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let nanoseconds =
                    admission.latency.components.seconds * 1_000_000_000
                    + admission.latency.components.attoseconds / 1_000_000_000
                context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                    let (handler, context) = bound.value
                    handler.write(handler.core.respond(request, admission), keepAlive: keepAlive, context: context)
                }
            } else {
                write(core.respond(request, admission), keepAlive: keepAlive, context: context)
            }
        }
    }

    /// Waits for a seat (or is rejected with 429), holds it for the request's cost and any injected latency, then
    /// answers and gives the seat to the next waiter.
    private func serveWithinCapacity(
        _ request: SimRequest, _ admission: SimulatorCore.Admission, gate: CapacityGate, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let hold = admission.latency + gate.capacity.cost
        let nanoseconds = hold.components.seconds * 1_000_000_000 + hold.components.attoseconds / 1_000_000_000
        let seated = gate.enter(on: loop) {
            loop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                let (handler, context) = bound.value
                handler.write(handler.core.respond(request, admission), keepAlive: keepAlive, context: context)
                gate.leave()
            }
        }
        if !seated {
            let rejected = SimulatorCore.Admission(
                route: admission.route, verb: admission.verb, latency: .zero,
                immediate: .error(.tooManyRequests(retryAfter: gate.capacity.retryAfterSeconds)))
            write(core.respond(request, rejected), keepAlive: keepAlive, context: context)
        }
    }

    private func write(_ response: SimResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        switch response {
        case .body(let status, let contentType, let bytes, let extra):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            for (name, value) in extra { headers.add(name: name, value: value) }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(
                    .head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            end(context: context, keepAlive: keepAlive)
        case .list(let listBody):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(listBody.contentLength))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            list = ListProgress(body: listBody, keepAlive: keepAlive)
            continueList(context: context)
        case .watch(let plan):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Transfer-Encoding", value: "chunked")
            headers.add(name: "Cache-Control", value: "no-cache, private")
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            let connection = WatchConnection(
                plan: plan, store: core.store, context: context, keepAlive: keepAlive,
                idle: { [unowned self] in self.armIdleClose(context: context) })
            watch = connection
            connection.start()
        }
    }

    private func end(context: ChannelHandlerContext, keepAlive: Bool) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            armIdleClose(context: context)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Writes list pieces while the channel is writable; resumes from `channelWritabilityChanged`.
    private func continueList(context: ChannelHandlerContext) {
        let chunk = core.configuration.listWriteChunkBytes
        while var progress = list, context.channel.isWritable {
            var buffer = context.channel.allocator.buffer(capacity: chunk + 16_384)
            if !progress.headerWritten {
                buffer.writeBytes(progress.body.header)
                progress.headerWritten = true
            }
            progress.nextItem = progress.body.writeItems(from: progress.nextItem, into: &buffer, limit: chunk)
            if progress.nextItem == progress.body.items.count {
                buffer.writeBytes(progress.body.footer)
                list = nil
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                end(context: context, keepAlive: progress.keepAlive)
                return
            }
            list = progress
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if list != nil && context.channel.isWritable { continueList(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleClose?.cancel()
        idleClose = nil
        list = nil
        watch?.stop(writeEnd: false)
        watch = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A WebSocket upgrade kube-sim declined (see ExecUpgrade): the request goes on as plain HTTP and is answered.
        if error is NIOWebSocketUpgradeError { return }
        watch?.stop(writeEnd: false)
        watch = nil
        context.close(promise: nil)
    }
}
