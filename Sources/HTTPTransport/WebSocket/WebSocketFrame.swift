/// One WebSocket frame (RFC 6455 §5.2): the FIN bit, the opcode and the unmasked payload.
public struct WebSocketFrame: Sendable, Equatable {
    /// Frame opcodes; the reserved ones are refused by the decoder.
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

        /// Close, ping and pong: never fragmented, at most 125 payload bytes.
        public var isControl: Bool { rawValue & 0x8 != 0 }
    }

    public var fin: Bool
    public var opcode: Opcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: Opcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// The frame on the wire. A client masks every frame it sends (`maskingKey`, 4 bytes); a server never does.
    public func encoded(maskingKey: [UInt8]? = nil) -> [UInt8] {
        precondition(maskingKey == nil || maskingKey!.count == 4, "a masking key has 4 bytes")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + 14)
        bytes.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        switch payload.count {
        case 0...125:
            bytes.append(maskBit | UInt8(payload.count))
        case 126...0xFFFF:
            bytes.append(maskBit | 126)
            bytes.append(UInt8(payload.count >> 8))
            bytes.append(UInt8(payload.count & 0xFF))
        default:
            bytes.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
            }
        }
        guard let key = maskingKey else {
            bytes.append(contentsOf: payload)
            return bytes
        }
        bytes.append(contentsOf: key)
        for (index, byte) in payload.enumerated() { bytes.append(byte ^ key[index & 3]) }
        return bytes
    }

    /// A close frame's payload: the status code (big-endian) and an optional UTF-8 reason.
    public static func closePayload(code: UInt16, reason: String = "") -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8.prefix(123))
    }

    /// The status code of a close frame's payload, if it has one.
    public static func closeCode(_ payload: [UInt8]) -> UInt16? {
        payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
    }
}

/// Why a WebSocket connection was given up.
public enum WebSocketError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The peer broke RFC 6455 (what and how).
    case protocolViolation(String)
    /// A message larger than the receiver accepts.
    case messageTooLarge(limit: Int)
    /// The server answered the upgrade request with something other than 101 Switching Protocols.
    case upgradeRefused(status: Int, headers: [HTTPHeader], body: [UInt8])
    /// The server switched protocols but its answer was not a valid WebSocket handshake.
    case handshakeInvalid(String)
    /// The connection ended without a close frame.
    case connectionLost(String)

    public var description: String {
        switch self {
        case .protocolViolation(let what): "WebSocket protocol violation by the peer: \(what)"
        case .messageTooLarge(let limit): "WebSocket message larger than \(limit) bytes"
        case .upgradeRefused(let status, _, let body):
            "the server refused the WebSocket upgrade with \(status): \(String(decoding: body.prefix(300), as: UTF8.self))"
        case .handshakeInvalid(let what): "invalid WebSocket handshake answer: \(what)"
        case .connectionLost(let why): "WebSocket connection lost: \(why)"
        }
    }
}

/// Cuts frames out of received bytes. A client's decoder (`expectMasked: false`) refuses masked frames and a
/// server's refuses unmasked ones (RFC 6455 §5.1); reserved bits and opcodes, fragmented or long control frames and
/// frames over `maxPayload` are refused too.
public struct WebSocketFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    let expectMasked: Bool
    let maxPayload: Int

    public init(expectMasked: Bool = false, maxPayload: Int = 16 << 20) {
        self.expectMasked = expectMasked
        self.maxPayload = maxPayload
    }

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame, or nil until more bytes arrive.
    public mutating func next() throws(WebSocketError) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        guard first & 0x70 == 0 else { throw .protocolViolation("reserved bits set with no extension negotiated") }
        guard let opcode = WebSocketFrame.Opcode(rawValue: first & 0x0F) else {
            throw .protocolViolation("reserved opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        guard masked == expectMasked else {
            throw .protocolViolation(masked ? "a server frame is masked" : "a client frame is not masked")
        }
        var offset = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            offset = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(buffer[start + index]) }
            guard value >> 63 == 0 else { throw .protocolViolation("64-bit length with the top bit set") }
            guard value <= UInt64(maxPayload) else { throw .messageTooLarge(limit: maxPayload) }
            length = Int(value)
            offset = 10
        }
        if opcode.isControl {
            guard fin else { throw .protocolViolation("fragmented control frame") }
            guard length <= 125 else { throw .protocolViolation("control frame of \(length) bytes") }
        }
        guard length <= maxPayload else { throw .messageTooLarge(limit: maxPayload) }
        let keyLength = masked ? 4 : 0
        guard available >= offset + keyLength + length else { return nil }
        let payloadStart = start + offset + keyLength
        var payload = Array(buffer[payloadStart..<payloadStart + length])
        if masked {
            let key = Array(buffer[(start + offset)..<(start + offset + 4)])
            for index in payload.indices { payload[index] ^= key[index & 3] }
        }
        start = payloadStart + length
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}

/// Joins fragmented data frames into messages; control frames pass through as they come (they may arrive between
/// the fragments of a message, RFC 6455 §5.4).
public struct WebSocketMessageAssembler: Sendable {
    /// A whole text or binary message, or a control frame.
    public struct Message: Sendable, Equatable {
        public var opcode: WebSocketFrame.Opcode
        public var payload: [UInt8]
    }

    private var partial: Message?
    let maxMessage: Int

    public init(maxMessage: Int = 16 << 20) { self.maxMessage = maxMessage }

    /// The message `frame` completes, or nil while a fragmented one is still open.
    public mutating func add(_ frame: WebSocketFrame) throws(WebSocketError) -> Message? {
        if frame.opcode.isControl { return Message(opcode: frame.opcode, payload: frame.payload) }
        if frame.opcode == .continuation {
            guard var message = partial else { throw .protocolViolation("continuation frame with no message open") }
            guard message.payload.count + frame.payload.count <= maxMessage else {
                throw .messageTooLarge(limit: maxMessage)
            }
            message.payload += frame.payload
            if frame.fin {
                partial = nil
                return message
            }
            partial = message
            return nil
        }
        guard partial == nil else { throw .protocolViolation("a new message began before the fragmented one ended") }
        let message = Message(opcode: frame.opcode, payload: frame.payload)
        if frame.fin { return message }
        partial = message
        return nil
    }
}
