import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for a process's operational endpoints (`/metrics`, `/healthz`, `/readyz`): GET and HEAD
/// on fixed paths, each answered by a handler that runs on the server's one event-loop thread, so handlers must be
/// quick and must not block (render from memory, read a flag).
public final class EndpointServer: Sendable {
    /// What a handler answers.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        public init(status: Int = 200, text: String) { self.init(status: status, body: Array(text.utf8)) }
    }

    public typealias Handler = @Sendable () -> Response

    /// The address it listens on; `port` is the bound one (useful when 0 was asked for).
    public let host: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(host: String, port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.host = host
        self.port = port
        self.group = group
        self.channel = channel
    }

    /// Listens on `host:port` (port 0: any free port) and serves `routes` by exact path (the query is ignored).
    public static func start(host: String, port: Int, routes: [String: Handler]) async throws -> EndpointServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(EndpointHandler(routes: routes))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return EndpointServer(
                host: host, port: channel.localAddress?.port ?? port, group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw EndpointServerError.cannotListen(address: "\(host):\(port)", reason: "\(error)")
        }
    }

    /// Stops listening and closes the connections.
    public func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// Why the endpoint server could not start.
public enum EndpointServerError: Error, CustomStringConvertible {
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            "cannot listen on \(address) for the metrics and health endpoints: \(reason) "
                + "(choose another --metrics-address, or an empty one to serve none)"
        }
    }
}

/// Answers one request at a time per connection (HTTP/1.1 pipelining is serialized by NIO's server pipeline).
final class EndpointHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: [String: EndpointServer.Handler]

    init(routes: [String: EndpointServer.Handler]) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = String(head.uri.prefix { $0 != "?" })
        let response: EndpointServer.Response
        if head.method != .GET && head.method != .HEAD {
            response = .init(status: 405, text: "only GET and HEAD are served\n")
        } else if let handler = routes[path] {
            response = handler()
        } else {
            let known = routes.keys.sorted().joined(separator: ", ")
            response = .init(status: 404, text: "no endpoint \(path); served: \(known)\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
