import Glibc

/// A TCP socket on 127.0.0.1 that listens but never accepts or answers: the kernel completes the handshake, then a
/// request waits for a response that never comes. Close it with `close()`.
struct SilentListener: Sendable {
    let descriptor: Int32
    let port: UInt16

    var url: String { "http://127.0.0.1:\(port)/silent" }

    init() throws {
        struct SocketError: Error { let call: String, code: Int32 }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            Glibc.close(fd)
            throw SocketError(call: "bind", code: errno)
        }
        guard listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw SocketError(call: "listen", code: errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            Glibc.close(fd)
            throw SocketError(call: "getsockname", code: errno)
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    func close() { _ = Glibc.close(descriptor) }
}
