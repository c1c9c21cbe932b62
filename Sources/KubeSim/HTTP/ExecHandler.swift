import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// `pods/exec` over Kubernetes' WebSocket protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`): an upgrade request
/// that passes `SimulatorCore.execPlan` is switched to WebSocket; any other one goes on to `HTTPHandler`, which
/// answers the same checks' error (404 pod, 400 container…) as a normal response, as the real server does.
enum ExecUpgrade {
    static func upgrader(core: SimulatorCore) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                guard let plan = try? core.execPlan(request(head)), !plan.subprotocol.isEmpty else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                var headers = HTTPHeaders()
                headers.add(name: "Sec-WebSocket-Protocol", value: plan.subprotocol)
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, head in
                let simRequest = request(head)
                guard let plan = try? core.execPlan(simRequest) else { return channel.close() }
                core.log.append(
                    RequestRecord(
                        method: simRequest.method, verb: "exec", path: simRequest.path, query: simRequest.rawQuery,
                        status: 101))
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ExecHandler(plan: plan))
                }
            })
    }

    private static func request(_ head: HTTPRequestHead) -> SimRequest {
        SimRequest(
            method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: [])
    }
}

/// One exec connection after the upgrade: starts the command (`ExecProcess`), sends its output as binary messages
/// on channels 1 and 2, then the `Status` on channel 3 and a close frame. A close frame from the client or a dropped
/// connection kills the command. Runs on the connection's event loop.
final class ExecHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let plan: ExecPlan
    private var process: ExecProcess?
    private var closeSent = false

    init(plan: ExecPlan) { self.plan = plan }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let process = ExecProcess(plan: plan) { event in
            loop.execute {
                let (handler, context) = bound.value
                handler.deliver(event, context: context)
            }
        }
        self.process = process
        process.start()
    }

    private func deliver(_ event: ExecProcess.Event, context: ChannelHandlerContext) {
        guard !closeSent else { return }
        switch event {
        case .output(let channel, let bytes):
            send(.binary, [channel] + bytes, context: context)
        case .finished(let status):
            send(.binary, [3] + status, context: context)
            close(code: .normalClosure, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .connectionClose:
            process?.kill()
            close(code: .normalClosure, context: context)
        case .ping:
            var payload = frame.unmaskedData
            send(.pong, payload.readBytes(length: payload.readableBytes) ?? [], context: context)
        default:
            break  // no stdin: data (and v5's close signal on channel 255) is ignored
        }
    }

    private func send(_ opcode: WebSocketOpcode, _ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: buffer)), promise: nil)
    }

    private func close(code: WebSocketErrorCode, context: ChannelHandlerContext) {
        guard !closeSent else { return }
        closeSent = true
        var buffer = context.channel.allocator.buffer(capacity: 2)
        buffer.write(webSocketErrorCode: code)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: buffer)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        process?.kill()
        context.fireChannelInactive()
    }
}
