import CCurl

/// Applies a `TLSConfiguration` to an easy handle (peer and host verification, CA, client certificate and key);
/// shared by requests and raw (WebSocket) connections. Returns false when curl refused an option.
func applyTLS(_ tls: TLSConfiguration, to handle: UnsafeMutableRawPointer) -> Bool {
    var ok = true
    func set(_ code: CURLcode) { if code != CURLE_OK { ok = false } }
    func setBlob(_ option: CURLoption, _ bytes: [UInt8]) {
        set(bytes.withUnsafeBytes { ccurl_setopt_blob(handle, option, $0.baseAddress, $0.count) })
    }
    set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, tls.verifyPeer ? 1 : 0))
    set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, tls.verifyPeer ? 2 : 0))
    if let file = tls.certificateAuthorityFile { set(ccurl_setopt_string(handle, CURLOPT_CAINFO, file)) }
    if let pem = tls.certificateAuthorityPEM { setBlob(CURLOPT_CAINFO_BLOB, pem) }
    if let pem = tls.clientCertificatePEM { setBlob(CURLOPT_SSLCERT_BLOB, pem) }
    if let pem = tls.clientKeyPEM { setBlob(CURLOPT_SSLKEY_BLOB, pem) }
    return ok
}
