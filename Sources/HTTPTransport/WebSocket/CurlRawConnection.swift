import CCurl
import Foundation
import Synchronization

/// A connection libcurl opened and then handed over (`CURLOPT_CONNECT_ONLY`): TLS, proxies (tunnelled) and client
/// certificates are curl's, the bytes are the caller's, through `curl_easy_send`/`curl_easy_recv`.
///
/// Every call blocks, so a connection lives on a thread of its own, never on the cooperative pool. Waits poll the
/// socket in slices of `pollSlice` and give up with `CancellationError` once `cancelled` is set.
final class CurlRawConnection {
    private let handle: UnsafeMutableRawPointer
    private let socket: curl_socket_t
    private let url: String
    private let cancelled: CancellationFlag
    private let pollSlice: Int32 = 100

    /// Connects (TCP, proxy tunnel, TLS handshake) to the URL's host; blocks until connected.
    init(url: String, tls: TLSConfiguration, connectTimeout: Duration, cancelled: CancellationFlag) throws {
        self.url = url
        self.cancelled = cancelled
        Self.initializeCurlOnce
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError.transferFailed(url: url, reason: "curl_easy_init failed")
        }
        var ok = ccurl_setopt_string(handle, CURLOPT_URL, url) == CURLE_OK
        ok = ok && ccurl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1) == CURLE_OK
        ok = ok && ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && ccurl_setopt_long(handle, CURLOPT_HTTPPROXYTUNNEL, 1) == CURLE_OK
        ok = ok && ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.milliseconds) == CURLE_OK
        ok = ok && applyTLS(tls, to: handle)
        guard ok else {
            curl_easy_cleanup(handle)
            throw HTTPTransportError.invalidURL(url)
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        var socket = curl_socket_t(-1)
        guard code == CURLE_OK, ccurl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0
        else {
            curl_easy_cleanup(handle)
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            switch code {
            case CURLE_OPERATION_TIMEDOUT: throw HTTPTransportError.timedOut(url: url)
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM:
                throw HTTPTransportError.tlsFailed(url: url, reason: reason)
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: throw HTTPTransportError.invalidURL(url)
            default: throw HTTPTransportError.connectionFailed(url: url, reason: reason)
            }
        }
        self.handle = handle
        self.socket = socket
    }

    private static let initializeCurlOnce: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends every byte, waiting while the socket is full.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { raw in
                curl_easy_send(handle, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            switch code {
            case CURLE_OK: offset += sent
            case CURLE_AGAIN: try wait(for: Int16(POLLOUT))
            default: throw failure(code, "send")
            }
        }
    }

    /// The next bytes the peer sent; empty when it closed the connection.
    func receive(maximum: Int = 64 << 10) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            if cancelled.isSet { throw CancellationError() }
            var received = 0
            let code = buffer.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress!, maximum, &received) }
            switch code {
            case CURLE_OK:
                buffer.removeSubrange(received...)
                return buffer
            // curl asks to wait on the socket only after it has no buffered (decrypted) bytes left.
            case CURLE_AGAIN: try wait(for: Int16(POLLIN))
            default: throw failure(code, "receive")
            }
        }
    }

    private func wait(for events: Int16) throws {
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            if cancelled.isSet { throw CancellationError() }
            let ready = poll(&descriptor, 1, pollSlice)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw HTTPTransportError.transferFailed(url: url, reason: "poll: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func failure(_ code: CURLcode, _ what: String) -> HTTPTransportError {
        .transferFailed(url: url, reason: "\(what): \(String(cString: curl_easy_strerror(code)))")
    }

    deinit { curl_easy_cleanup(handle) }
}

/// Set once, from any thread, to stop a blocking connection's waits.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
