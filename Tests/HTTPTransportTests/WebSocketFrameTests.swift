import Foundation
import Testing

@testable import HTTPTransport

/// The frame codec against the examples of RFC 6455 §5.7 and §1.3, and the violations a client must refuse.
struct WebSocketFrameTests {
    let hello = Array("Hello".utf8)

    @Test("RFC 6455 §5.7: unmasked and masked single-frame text, ping and masked pong")
    func rfcSingleFrames() throws {
        let unmasked: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        let masked: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        #expect(WebSocketFrame(opcode: .text, payload: hello).encoded() == unmasked)
        #expect(WebSocketFrame(opcode: .text, payload: hello).encoded(maskingKey: [0x37, 0xfa, 0x21, 0x3d]) == masked)
        var client = WebSocketFrameDecoder(expectMasked: false)
        client.append(unmasked)
        #expect(try client.next() == WebSocketFrame(opcode: .text, payload: hello))
        #expect(try client.next() == nil)
        var server = WebSocketFrameDecoder(expectMasked: true)
        server.append(masked)
        #expect(try server.next() == WebSocketFrame(opcode: .text, payload: hello))
        #expect(WebSocketFrame(opcode: .ping, payload: hello).encoded() == [0x89, 0x05] + hello)
        let pong: [UInt8] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        #expect(WebSocketFrame(opcode: .pong, payload: hello).encoded(maskingKey: [0x37, 0xfa, 0x21, 0x3d]) == pong)
    }

    @Test("RFC 6455 §5.7: a fragmented text message, with a ping between the fragments, is joined")
    func rfcFragmented() throws {
        var decoder = WebSocketFrameDecoder()
        decoder.append([0x01, 0x03, 0x48, 0x65, 0x6c] + [0x89, 0x00] + [0x80, 0x02, 0x6c, 0x6f])
        var assembler = WebSocketMessageAssembler()
        var messages: [WebSocketMessageAssembler.Message] = []
        while let frame = try decoder.next() {
            if let message = try assembler.add(frame) { messages.append(message) }
        }
        #expect(messages.map(\.opcode) == [.ping, .text])
        #expect(messages.last?.payload == hello)
    }

    @Test("RFC 6455 §5.7: 256 bytes take a 16-bit length, 64 KiB a 64-bit one; bytes may arrive one at a time")
    func rfcExtendedLengths() throws {
        let small = [UInt8](repeating: 7, count: 256)
        let large = [UInt8](repeating: 9, count: 65536)
        let smallWire = WebSocketFrame(opcode: .binary, payload: small).encoded()
        let largeWire = WebSocketFrame(opcode: .binary, payload: large).encoded()
        #expect(Array(smallWire.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(Array(largeWire.prefix(10)) == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        var decoder = WebSocketFrameDecoder()
        var frames: [WebSocketFrame] = []
        for byte in smallWire + largeWire {
            decoder.append([byte])
            if let frame = try decoder.next() { frames.append(frame) }
        }
        #expect(frames.map(\.payload) == [small, large])
    }

    @Test("RFC 6455 §1.3: the accept value of the sample key; SHA-1 of 'abc' (FIPS 180)")
    func handshakeAccept() {
        #expect(WebSocketHandshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let hex = SHA1.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test("a handshake answer with a wrong accept value or an unoffered subprotocol is refused")
    func handshakeChecks() throws {
        let handshake = WebSocketHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: ["v4.channel.k8s.io"])
        func head(_ accept: String, _ subprotocol: String) -> WebSocketHandshake.ResponseHead {
            WebSocketHandshake.ResponseHead(
                status: 101,
                headers: [
                    HTTPHeader("Upgrade", "websocket"), HTTPHeader("Connection", "Upgrade"),
                    HTTPHeader("Sec-WebSocket-Accept", accept), HTTPHeader("Sec-WebSocket-Protocol", subprotocol),
                ])
        }
        #expect(
            try handshake.validate(head("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "v4.channel.k8s.io")) == "v4.channel.k8s.io")
        #expect(throws: WebSocketError.self) { try handshake.validate(head("AAAA", "v4.channel.k8s.io")) }
        #expect(throws: WebSocketError.self) {
            try handshake.validate(head("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "v5.channel.k8s.io"))
        }
        let request = String(
            decoding: try handshake.request(url: "https://h:6443/api/v1/x?a=b", headers: []), as: UTF8.self)
        #expect(request.hasPrefix("GET /api/v1/x?a=b HTTP/1.1\r\nHost: h:6443\r\n"))
        #expect(request.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
    }

    @Test("violations: masked server frame, reserved bits or opcode, long or fragmented control, stray continuation")
    func violations() throws {
        func decode(_ bytes: [UInt8]) throws {
            var decoder = WebSocketFrameDecoder()
            decoder.append(bytes)
            var assembler = WebSocketMessageAssembler()
            while let frame = try decoder.next() { _ = try assembler.add(frame) }
        }
        #expect(throws: WebSocketError.self) {
            try decode([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
        }
        #expect(throws: WebSocketError.self) { try decode([0xC1, 0x00]) }
        #expect(throws: WebSocketError.self) { try decode([0x83, 0x00]) }
        #expect(throws: WebSocketError.self) {
            try decode([0x89, 0x7E, 0x00, 0x80] + [UInt8](repeating: 0, count: 128))
        }
        #expect(throws: WebSocketError.self) { try decode([0x09, 0x00]) }
        #expect(throws: WebSocketError.self) { try decode([0x80, 0x00]) }
        #expect(throws: WebSocketError.self) { try decode([0x01, 0x01, 0x41, 0x01, 0x01, 0x42]) }
        var small = WebSocketFrameDecoder(maxPayload: 10)
        small.append([0x82, 0x0B] + [UInt8](repeating: 0, count: 11))
        #expect(throws: WebSocketError.messageTooLarge(limit: 10)) { try small.next() }
    }
}
