import Foundation
import Glibc
import Synchronization

/// A one-connection HTTP server on 127.0.0.1 that answers any request with `length` bytes (byte i is `i % 251`),
/// written as fast as the socket takes them from a thread of its own. `written` counts what the kernel accepted, so a
/// test sees whether the client's slowness reached the server; `aborted` is set when the client hung up early.
final class BulkServer: Sendable {
    let port: UInt16
    let length: Int
    private let listener: Int32
    private let progress = Mutex((written: 0, aborted: false, done: false))

    var url: String { "http://127.0.0.1:\(port)/bulk" }
    var written: Int { progress.withLock { $0.written } }
    var aborted: Bool { progress.withLock { $0.aborted } }
    var done: Bool { progress.withLock { $0.done } }

    static func byte(at index: Int) -> UInt8 { UInt8(index % 251) }

    init(length: Int) throws {
        struct SocketError: Error { let call: String, code: Int32 }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var length32 = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length32) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length32) == 0
            }
        }
        guard ok else {
            let code = errno
            Glibc.close(fd)
            throw SocketError(call: "bind/listen", code: code)
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        self.length = length
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        defer { Glibc.close(connection) }
        var request: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) {
            let count = recv(connection, &piece, piece.count, 0)
            guard count > 0 else { return }
            request += piece[..<count]
        }
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8)
        guard send(connection, head, head.count, Int32(MSG_NOSIGNAL)) == head.count else { return }
        let block = (0..<(251 * 256)).map(Self.byte(at:))  // whole periods: block[sent % count] is byte(sent)
        var sent = 0
        while sent < length {
            let offset = sent % block.count
            let count = min(block.count - offset, length - sent)
            let result = block[offset..<offset + count].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard result > 0 else {
                progress.withLock { $0.aborted = true }
                return
            }
            sent += result
            progress.withLock { $0.written = sent }
        }
        progress.withLock { $0.done = true }
    }

    func close() { _ = Glibc.close(listener) }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
