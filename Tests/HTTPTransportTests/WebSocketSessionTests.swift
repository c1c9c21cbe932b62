import Foundation
import Glibc
import Synchronization
import Testing

@testable import HTTPTransport

/// The WebSocket client over a real connection, against a scripted server on a thread of its own: the handshake,
/// a fragmented message with a ping between its fragments (answered with a masked pong), the close handshake, and
/// cancellation while the server stays silent.
@Suite(.serialized)
struct WebSocketSessionTests {
    /// The server's side of one connection, blocking, on its own thread.
    final class ScriptedPeer: Sendable {
        let fd: Int32
        init(listener: SilentListener) { fd = accept(listener.descriptor, nil, nil) }

        func read() -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? Array(buffer[0..<count]) : []
        }

        func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }

        /// Reads the upgrade request and answers 101 with the accept value of its key.
        func handshake() -> String {
            var request: [UInt8] = []
            while WebSocketHandshake.headEnd(in: request) == nil {
                let more = read()
                if more.isEmpty { break }
                request += more
            }
            let text = String(decoding: request, as: UTF8.self)
            let key =
                text.components(separatedBy: "\r\n").first { $0.hasPrefix("Sec-WebSocket-Key: ") }?
                .dropFirst("Sec-WebSocket-Key: ".count) ?? ""
            write(
                Array(
                    ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(for: String(key)))\r\n"
                        + "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n").utf8))
            return text
        }

        /// The next frame the client sent (client frames are masked).
        func frame() -> WebSocketFrame? {
            var decoder = WebSocketFrameDecoder(expectMasked: true)
            while true {
                if let frame = try? decoder.next() { return frame }
                let more = read()
                if more.isEmpty { return nil }
                decoder.append(more)
            }
        }

        deinit { _ = close(fd) }
    }

    static func serve(_ script: @escaping @Sendable (ScriptedPeer) -> Void) throws -> (SilentListener, Thread) {
        let listener = try SilentListener()
        let thread = Thread { script(ScriptedPeer(listener: listener)) }
        thread.start()
        return (listener, thread)
    }

    /// Waits (without blocking a thread of the cooperative pool) until the scripted peer is done.
    static func waitFor(_ done: borrowing Mutex<Bool>) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !done.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("handshake, fragments joined around a ping, a masked pong, the close echoed")
    func conversation() async throws {
        let seen = Mutex<(request: String, pong: WebSocketFrame?, close: WebSocketFrame?)>(("", nil, nil))
        let done = Mutex(false)
        let (listener, _) = try Self.serve { peer in
            let request = peer.handshake()
            peer.write(WebSocketFrame(fin: false, opcode: .binary, payload: [1] + Array("Hel".utf8)).encoded())
            peer.write(WebSocketFrame(opcode: .ping, payload: Array("p".utf8)).encoded())
            peer.write(WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8)).encoded())
            let pong = peer.frame()
            peer.write(WebSocketFrame(opcode: .text, payload: Array("second".utf8)).encoded())
            peer.write(
                WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: 1000, reason: "bye"))
                    .encoded())
            let close = peer.frame()
            seen.withLock { $0 = (request, pong, close) }
            done.withLock { $0 = true }
        }
        defer { listener.close() }
        var events: [WebSocketEvent] = []
        for try await event in HTTPClient().webSocket(
            url: "http://127.0.0.1:\(listener.port)/api/v1/x?command=a&command=b",
            headers: [HTTPHeader("Authorization", "Bearer t")], protocols: ["v4.channel.k8s.io"])
        {
            events.append(event)
        }
        try await Self.waitFor(done)
        #expect(
            events == [
                .opened(subprotocol: "v4.channel.k8s.io"),
                .message(.init(opcode: .binary, payload: [1] + Array("Hello".utf8))),
                .message(.init(opcode: .text, payload: Array("second".utf8))),
                .closed(code: 1000, reason: "bye"),
            ])
        let (request, pong, close) = seen.withLock { $0 }
        #expect(request.hasPrefix("GET /api/v1/x?command=a&command=b HTTP/1.1\r\n"))
        #expect(request.contains("Authorization: Bearer t\r\n"))
        #expect(pong == WebSocketFrame(opcode: .pong, payload: Array("p".utf8)))
        #expect(close.map { WebSocketFrame.closeCode($0.payload) } == 1000)
    }

    @Test("cancelling the reader ends a silent connection within a poll slice and sends close 1001")
    func cancellation() async throws {
        let close = Mutex<WebSocketFrame?>(nil)
        let done = Mutex(false)
        let (listener, _) = try Self.serve { peer in
            _ = peer.handshake()
            let frame = peer.frame()
            close.withLock { $0 = frame }
            done.withLock { $0 = true }
        }
        defer { listener.close() }
        let stream = HTTPClient().webSocket(
            url: "http://127.0.0.1:\(listener.port)/x", headers: [], protocols: ["v4.channel.k8s.io"])
        let reader = Task {
            var opened = false
            do {
                for try await event in stream where event == .opened(subprotocol: "v4.channel.k8s.io") {
                    opened = true
                }
            } catch {}
            return opened
        }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        reader.cancel()
        #expect(await reader.value)
        try await Self.waitFor(done)
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(close.withLock { $0.map { WebSocketFrame.closeCode($0.payload) } } == 1001)
    }

    @Test("a refused upgrade throws the status and body; an answer without our accept value is refused")
    func refusals() async throws {
        let (refusing, _) = try Self.serve { peer in
            _ = peer.read()
            peer.write(
                Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nnot found".utf8))
        }
        defer { refusing.close() }
        do {
            for try await _ in HTTPClient().webSocket(
                url: "http://127.0.0.1:\(refusing.port)/x", headers: [], protocols: ["v4.channel.k8s.io"])
            {}
            Issue.record("a 404 was accepted")
        } catch WebSocketError.upgradeRefused(let status, _, let body) {
            #expect(status == 404)
            #expect(body == Array("not found".utf8))
        }
        let (lying, _) = try Self.serve { peer in
            _ = peer.read()
            peer.write(
                Array(
                    ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: AAAA\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n").utf8))
        }
        defer { lying.close() }
        await #expect(throws: WebSocketError.self) {
            for try await _ in HTTPClient().webSocket(
                url: "http://127.0.0.1:\(lying.port)/x", headers: [], protocols: ["v4.channel.k8s.io"])
            {}
        }
    }
}
