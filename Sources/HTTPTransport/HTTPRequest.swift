/// An HTTP method the transport can send.
public enum HTTPMethod: String, Sendable {
    case get = "GET", head = "HEAD", put = "PUT", post = "POST", patch = "PATCH", delete = "DELETE"
}

/// One header line; order is kept and names compare case-insensitively.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A request: the whole body is in memory (chunks and API objects are small).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    /// Overrides the client's total timeout for this request; `.zero` means none (for long watches).
    public var timeout: Duration?

    public init(
        method: HTTPMethod, url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil, timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body as UTF-8 text, for error messages.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Certificate settings; peer verification is on unless explicitly turned off.
public struct TLSConfiguration: Sendable, Equatable {
    public var verifyPeer: Bool
    /// A CA bundle file, as `certificate-authority` in a kubeconfig.
    public var certificateAuthorityFile: String?
    /// PEM bytes of a CA bundle, as `certificate-authority-data`.
    public var certificateAuthorityPEM: [UInt8]?
    /// PEM client certificate and key for mutual TLS.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(
        verifyPeer: Bool = true, certificateAuthorityFile: String? = nil, certificateAuthorityPEM: [UInt8]? = nil,
        clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil
    ) {
        self.verifyPeer = verifyPeer
        self.certificateAuthorityFile = certificateAuthorityFile
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }
}

/// One piece of a streamed response.
public enum HTTPStreamEvent: Sendable {
    case head(status: Int, headers: [HTTPHeader])
    case data([UInt8])
}
