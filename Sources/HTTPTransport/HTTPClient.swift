import CCurl

/// An HTTP/1.1 and HTTP/2 client over libcurl whose requests never block Swift's cooperative pool.
///
/// All transfers of a client share one driver thread and its connection cache; a cancelled task aborts its transfer.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration
        /// Total time for one request; a request's own `timeout` overrides it.
        public var requestTimeout: Duration
        public var maxConnectionsPerHost: Int
        public var tls: TLSConfiguration
        /// How many body bytes of one streamed response may wait for its consumer before the transfer pauses.
        public var streamBufferBytes: Int

        public init(
            connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(120),
            maxConnectionsPerHost: Int = 16, tls: TLSConfiguration = TLSConfiguration(),
            streamBufferBytes: Int = 1 << 20
        ) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.tls = tls
            self.streamBufferBytes = streamBufferBytes
        }
    }

    public let configuration: Configuration
    private let driver: CurlDriver

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        driver = CurlDriver(maxConnectionsPerHost: configuration.maxConnectionsPerHost)
    }

    deinit { driver.shutdown() }

    /// Sends `request` and returns the response, whatever its status. Throws `HTTPTransportError` when no response
    /// arrived, `CancellationError` when the task was cancelled.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError.transferFailed(url: request.url, reason: "curl_easy_init failed")
        }
        let transfer = Transfer(request: request, handle: handle)
        try configure(transfer)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                driver.submit(transfer)
            }
        } onCancel: {
            driver.cancel(transfer)
        }
    }

    /// Sends `request` and streams the response: first `.head` with the status and headers, then `.data` pieces
    /// as they arrive (for watches), at most `streamBufferBytes` of them waiting (see `HTTPResponseStream`).
    /// Dropping the stream early cancels the transfer.
    public func stream(_ request: HTTPRequest) throws -> HTTPResponseStream {
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError.transferFailed(url: request.url, reason: "curl_easy_init failed")
        }
        let transfer = Transfer(request: request, handle: handle)
        try configure(transfer)
        let buffer = StreamBuffer(limit: configuration.streamBufferBytes)
        transfer.stream = buffer
        driver.submit(transfer)
        return HTTPResponseStream(owner: StreamOwner(buffer: buffer, transfer: transfer, driver: driver))
    }

    private func configure(_ transfer: Transfer) throws {
        let handle = transfer.handle
        let request = transfer.request
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        var failed = false
        func set(_ code: CURLcode) { if code != CURLE_OK { failed = true } }

        set(ccurl_setopt_string(handle, CURLOPT_URL, request.url))
        set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds))
        set(
            ccurl_setopt_long(
                handle, CURLOPT_TIMEOUT_MS, (request.timeout ?? configuration.requestTimeout).milliseconds))
        set(ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, receiveBody))
        set(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, receiveHeader))
        set(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        transfer.errorBuffer.withUnsafeMutableBufferPointer { buffer in
            set(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress))
        }

        switch request.method {
        case .get: break
        case .head: set(ccurl_setopt_long(handle, CURLOPT_NOBODY, 1))
        default: set(ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
        }
        if let body = request.body {
            set(ccurl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the array need not outlive this call; a non-null pointer even when empty.
                let pointer = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                set(ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: pointer)))
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        var hasContentType = false
        for header in request.headers {
            if header.name.lowercased() == "content-type" { hasContentType = true }
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        list = curl_slist_append(list, "Expect:")  // no 100-continue round trip
        if request.body != nil && !hasContentType { list = curl_slist_append(list, "Content-Type:") }
        transfer.headerList = list
        set(ccurl_setopt_list(handle, CURLOPT_HTTPHEADER, list))

        if !applyTLS(configuration.tls, to: handle) { failed = true }

        if failed { throw HTTPTransportError.invalidURL(request.url) }
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
