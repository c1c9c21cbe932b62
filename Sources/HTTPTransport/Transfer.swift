import CCurl
import Synchronization

/// One request in flight: its easy handle, the buffers curl fills, and the continuation to resume.
///
/// Built on the caller's task, then owned by the driver thread until it resumes the continuation exactly once.
final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    let handle: UnsafeMutableRawPointer
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    /// Set for streamed requests: the body goes here as it arrives instead of into `body`.
    var stream: StreamBuffer?
    var headSent = false
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseHeaders: [HTTPHeader] = []
    var body: [UInt8] = []
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let cancelled = Atomic<Bool>(false)

    init(request: HTTPRequest, handle: UnsafeMutableRawPointer) {
        self.request = request
        self.handle = handle
    }

    /// Called by curl for each header line; a new status line (after a redirect or 100) starts over.
    func receiveHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            responseHeaders.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        var value = line[line.index(after: colon)...]
        while value.first == " " || value.first == "\t" { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }  // "\r\n" is one Character
        responseHeaders.append(HTTPHeader(name, String(value)))
    }

    /// The curl error text for `code`, preferring the detailed per-transfer buffer.
    func reason(for code: CURLcode) -> String {
        let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    func error(for code: CURLcode) -> HTTPTransportError {
        let url = request.url
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(url: url)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectionFailed(url: url, reason: reason(for: code))
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR:
            return .tlsFailed(url: url, reason: reason(for: code))
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidURL(url)
        default: return .transferFailed(url: url, reason: reason(for: code))
        }
    }

    deinit {
        curl_slist_free_all(headerList)
        curl_easy_cleanup(handle)
    }
}

extension Transfer {
    /// For streams: the status and headers, once, before any data.
    func sendHeadIfNeeded() {
        guard let stream, !headSent else { return }
        headSent = true
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        stream.yieldHead(status: status, headers: responseHeaders)
    }
}

/// curl's write callback: appends the body bytes to the transfer, or passes them on for a stream — or pauses the
/// transfer while the stream's consumer has its fill waiting (curl hands the same bytes over again on unpause).
let receiveBody: ccurl_data_callback = { pointer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let pointer, length > 0 {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        if let stream = transfer.stream {
            transfer.sendHeadIfNeeded()
            if !stream.offer(bytes) { return ccurl_writefunc_pause() }
        } else {
            transfer.body.append(contentsOf: bytes)
        }
    }
    return length
}

/// curl's header callback: one header line per call.
let receiveHeader: ccurl_data_callback = { pointer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let pointer, length > 0 {
        let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
        transfer.receiveHeaderLine(line)
    }
    return length
}
