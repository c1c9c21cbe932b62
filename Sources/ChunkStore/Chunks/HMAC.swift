import COpenSSL

/// SHA-256 and HMAC-SHA256 digests as byte arrays (for signing requests, not for chunk ids).
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { input in
            _ = copenssl_sha256(input.baseAddress, input.count, &out)
        }
        return out
    }

    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                // A zero-length buffer may have a nil base address; OpenSSL wants a pointer.
                let data = message.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                _ = copenssl_hmac_sha256(key.baseAddress, key.count, data, message.count, &out)
            }
        }
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
