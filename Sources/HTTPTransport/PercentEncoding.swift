/// RFC 3986 percent-encoding, as URLs for S3 (SigV4) and the Kubernetes API need it.
public enum PercentEncoding {
    /// Encodes everything except the unreserved characters A–Z a–z 0–9 - _ . ~ (uppercase hex digits), and the
    /// characters of `alsoKeeping` (a path segment keeps RFC 3986's sub-delimiters, `:` and `@`).
    public static func encode(_ text: String, alsoKeeping: String = "") -> String {
        let kept = Set(alsoKeeping.utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            let unreserved =
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "~")
            if unreserved || kept.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
