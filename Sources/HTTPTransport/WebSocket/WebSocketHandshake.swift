import Foundation

/// The client's side of the opening handshake (RFC 6455 §4.1): the upgrade request and the checks of its answer.
public struct WebSocketHandshake: Sendable {
    /// The random `Sec-WebSocket-Key` (16 bytes, base64).
    public let key: String
    public let protocols: [String]

    public init(key: String? = nil, protocols: [String]) {
        self.key = key ?? Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        self.protocols = protocols
    }

    /// The `Sec-WebSocket-Accept` a server must answer for `key`.
    public static func acceptValue(for key: String) -> String {
        Data(SHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }

    /// The request bytes: `GET` of the URL's path and query with the upgrade headers, then `headers`.
    public func request(url: String, headers: [HTTPHeader]) throws(HTTPTransportError) -> [UInt8] {
        guard let components = URLComponents(string: url), let host = components.host else { throw .invalidURL(url) }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let target = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let hostHeader =
            (host.contains(":") ? "[\(host)]" : host) + (components.port.map { ":\($0)" } ?? "")
        var text = "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if !protocols.isEmpty { text += "Sec-WebSocket-Protocol: \(protocols.joined(separator: ", "))\r\n" }
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// An HTTP/1.1 response head: the status and the header lines.
    public struct ResponseHead: Sendable, Equatable {
        public var status: Int
        public var headers: [HTTPHeader]

        public func header(_ name: String) -> String? {
            HTTPResponse(status: status, headers: headers, body: []).header(name)
        }

        /// Parses the bytes up to (not including) the blank line.
        public static func parse(_ bytes: ArraySlice<UInt8>) throws(WebSocketError) -> ResponseHead {
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
                throw .handshakeInvalid("status line '\(lines[0].prefix(100))'")
            }
            var headers: [HTTPHeader] = []
            for line in lines.dropFirst() where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append(
                    HTTPHeader(
                        String(line[..<colon]),
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            return ResponseHead(status: status, headers: headers)
        }
    }

    /// Where the response head ends in `bytes` (the index after "\r\n\r\n"), if it has arrived.
    public static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// Checks a 101 answer: `Upgrade: websocket`, `Connection: upgrade`, the accept value of our key, and a
    /// subprotocol we offered (when we offered any). Returns the chosen subprotocol.
    public func validate(_ head: ResponseHead) throws(WebSocketError) -> String? {
        guard head.header("Upgrade")?.lowercased() == "websocket" else {
            throw .handshakeInvalid("Upgrade header is '\(head.header("Upgrade") ?? "")', not websocket")
        }
        guard
            head.header("Connection")?.lowercased().split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == "upgrade"
            }) == true
        else { throw .handshakeInvalid("Connection header does not say upgrade") }
        guard head.header("Sec-WebSocket-Accept") == Self.acceptValue(for: key) else {
            throw .handshakeInvalid("Sec-WebSocket-Accept does not match the key sent")
        }
        let chosen = head.header("Sec-WebSocket-Protocol")
        if let chosen, !protocols.contains(chosen) {
            throw .handshakeInvalid("the server chose subprotocol '\(chosen)', which was not offered")
        }
        if chosen == nil && !protocols.isEmpty {
            throw .handshakeInvalid("the server chose none of the subprotocols \(protocols.joined(separator: ", "))")
        }
        return chosen
    }
}

/// SHA-1, only for the handshake's `Sec-WebSocket-Accept` (RFC 6455 fixes the hash; it protects nothing).
enum SHA1 {
    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8((bits >> UInt64(shift)) & 0xFF)) }
        var w = [UInt32](repeating: 0, count: 80)
        for block in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 {
                let base = block + index * 4
                w[index] =
                    UInt32(padded[base]) << 24 | UInt32(padded[base + 1]) << 16 | UInt32(padded[base + 2]) << 8
                    | UInt32(padded[base + 3])
            }
            for index in 16..<80 {
                let value = w[index - 3] ^ w[index - 8] ^ w[index - 14] ^ w[index - 16]
                w[index] = value << 1 | value >> 31
            }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for index in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch index {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[index]
                (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
            }
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
        }
        return h.flatMap { value in [24, 16, 8, 0].map { UInt8((value >> UInt32($0)) & 0xFF) } }
    }
}
