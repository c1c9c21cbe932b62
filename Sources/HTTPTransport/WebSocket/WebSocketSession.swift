import Foundation

/// What a WebSocket connection delivers to its reader.
public enum WebSocketEvent: Sendable, Equatable {
    /// The handshake succeeded; the subprotocol the server chose.
    case opened(subprotocol: String?)
    /// A whole text or binary message (fragments joined).
    case message(WebSocketMessageAssembler.Message)
    /// The server's close frame: its status code and reason. Nothing follows.
    case closed(code: UInt16?, reason: String)
}

extension HTTPClient {
    /// Opens a WebSocket to `url` (`http://` or `https://`, as the other requests) and streams what the server
    /// sends. libcurl connects (TLS, proxy, client certificates as for every request: this libcurl has no WebSocket
    /// support of its own), then the upgrade request with `headers`, the frames and the handshake checks are ours
    /// (`WebSocketHandshake`, `WebSocketFrameDecoder`). Pings are answered, a close frame is answered and ends the
    /// stream; the client sends no data messages (enough for exec without stdin).
    ///
    /// The connection runs on a thread of its own (its calls block). Cancelling the reading task or dropping the
    /// stream stops it within about 100 ms, sending a close frame (1001) when it can. A refused upgrade throws
    /// `WebSocketError.upgradeRefused` with the server's status and body.
    public func webSocket(
        url: String, headers: [HTTPHeader], protocols: [String], maxMessage: Int = 16 << 20
    ) -> AsyncThrowingStream<WebSocketEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WebSocketEvent, any Error>.makeStream()
        let cancellation = CancellationFlag()
        continuation.onTermination = { _ in cancellation.set() }
        let session = WebSocketSession(
            url: url, headers: headers, handshake: WebSocketHandshake(protocols: protocols), maxMessage: maxMessage,
            tls: configuration.tls, connectTimeout: configuration.connectTimeout, cancellation: cancellation)
        let thread = Thread { session.run(continuation) }
        thread.name = "velero-cas-websocket"
        thread.start()
        return stream
    }
}

/// One client WebSocket connection, run start to end on its own thread.
struct WebSocketSession: Sendable {
    let url: String
    let headers: [HTTPHeader]
    let handshake: WebSocketHandshake
    let maxMessage: Int
    let tls: TLSConfiguration
    let connectTimeout: Duration
    let cancellation: CancellationFlag

    func run(_ continuation: AsyncThrowingStream<WebSocketEvent, any Error>.Continuation) {
        var connection: CurlRawConnection?
        do {
            let opened = try CurlRawConnection(
                url: url, tls: tls, connectTimeout: connectTimeout, cancelled: cancellation)
            connection = opened
            try opened.send(try handshake.request(url: url, headers: headers))
            var leftover = try readHead(opened, continuation)
            var decoder = WebSocketFrameDecoder(expectMasked: false, maxPayload: maxMessage)
            var assembler = WebSocketMessageAssembler(maxMessage: maxMessage)
            while true {
                decoder.append(leftover)
                while let frame = try decoder.next() {
                    guard let message = try assembler.add(frame) else { continue }
                    switch message.opcode {
                    case .ping: try opened.send(Self.masked(WebSocketFrame(opcode: .pong, payload: message.payload)))
                    case .pong: continue
                    case .close:
                        let code = WebSocketFrame.closeCode(message.payload)
                        // Echo the status code (RFC 6455 §5.5.1); the server closes the TCP connection.
                        try? opened.send(
                            Self.masked(
                                WebSocketFrame(
                                    opcode: .close, payload: code.map { WebSocketFrame.closePayload(code: $0) } ?? [])))
                        continuation.yield(
                            .closed(code: code, reason: String(decoding: message.payload.dropFirst(2), as: UTF8.self)))
                        continuation.finish()
                        return
                    default: continuation.yield(.message(message))
                    }
                }
                leftover = try opened.receive()
                if leftover.isEmpty {
                    throw WebSocketError.connectionLost("the server closed the connection without a close frame")
                }
            }
        } catch is CancellationError {
            try? connection?.send(
                Self.masked(WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: 1001))))
            continuation.finish(throwing: CancellationError())
        } catch {
            continuation.finish(throwing: error)
        }
    }

    /// Reads the response head; a 101 that passes the checks yields `.opened` and returns the bytes after it, any
    /// other status throws `upgradeRefused` with the body (read up to its Content-Length, or 64 KiB, or the end).
    private func readHead(
        _ connection: CurlRawConnection, _ continuation: AsyncThrowingStream<WebSocketEvent, any Error>.Continuation
    ) throws -> [UInt8] {
        var received: [UInt8] = []
        var end: Int?
        while end == nil {
            let chunk = try connection.receive()
            if chunk.isEmpty {
                throw WebSocketError.connectionLost("the server closed the connection before answering")
            }
            received += chunk
            end = WebSocketHandshake.headEnd(in: received)
            if end == nil && received.count > 64 << 10 {
                throw WebSocketError.handshakeInvalid("no end of the response head within 64 KiB")
            }
        }
        let head = try WebSocketHandshake.ResponseHead.parse(received[..<(end! - 4)])
        var rest = Array(received[end!...])
        guard head.status == 101 else {
            let length = head.header("Content-Length").flatMap(Int.init) ?? (64 << 10)
            while rest.count < min(length, 64 << 10) {
                guard let chunk = try? connection.receive(), !chunk.isEmpty else { break }
                rest += chunk
            }
            throw WebSocketError.upgradeRefused(status: head.status, headers: head.headers, body: rest)
        }
        continuation.yield(.opened(subprotocol: try handshake.validate(head)))
        return rest
    }

    static func masked(_ frame: WebSocketFrame) -> [UInt8] {
        frame.encoded(maskingKey: (0..<4).map { _ in UInt8.random(in: 0...255) })
    }
}
