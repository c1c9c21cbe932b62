import COpenSSL

/// The store's cryptographic primitives, all through OpenSSL: random bytes, AES-256-GCM and scrypt.
public enum StoreCrypto {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// `count` random bytes from OpenSSL's CSPRNG.
    public static func random(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { copenssl_random($0.baseAddress, count) }
        precondition(ok == 1, "OpenSSL could not produce random bytes")
        return bytes
    }

    /// AES-256-GCM: `nonce ‖ ciphertext ‖ tag`, with `associated` authenticated but not stored (the object's key, so
    /// an object moved to another key does not open). A fresh random nonce per call.
    public static func seal(_ plain: [UInt8], key: [UInt8], associated: [UInt8], nonce: [UInt8]? = nil) -> [UInt8] {
        var sealed = [UInt8](repeating: 0, count: nonceLength + plain.count + tagLength)
        sealed.withUnsafeMutableBytes { sealed in
            plain.withUnsafeBytes { plain in
                guard plain.count > 0 else { return }
                (sealed.baseAddress! + nonceLength).copyMemory(from: plain.baseAddress!, byteCount: plain.count)
            }
        }
        sealInPlace(&sealed, key: key, associated: associated, nonce: nonce)
        return sealed
    }

    /// `seal` without a second buffer: `buffer` holds `nonceLength` spare bytes, the plain text, and `tagLength`
    /// spare bytes, and afterwards is what `seal` returns for that plain text (a chunk's blob is sealed where it was
    /// compressed: one allocation per chunk, not two).
    public static func sealInPlace(_ buffer: inout [UInt8], key: [UInt8], associated: [UInt8], nonce: [UInt8]? = nil) {
        precondition(key.count == keyLength)
        precondition(buffer.count >= nonceLength + tagLength)
        let count = buffer.count - nonceLength - tagLength
        let ok = buffer.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            if let nonce {
                precondition(nonce.count == nonceLength)
                for index in 0..<nonceLength { base[index] = nonce[index] }
            } else {
                precondition(copenssl_random(base, nonceLength) == 1, "OpenSSL could not produce random bytes")
            }
            let body = base + nonceLength
            return key.withUnsafeBufferPointer { key in
                associated.withUnsafeBufferPointer { associated in
                    // OpenSSL's GCM encrypts in place (output and input the same bytes).
                    copenssl_aes256gcm_seal(
                        key.baseAddress, base, associated.baseAddress, associated.count, body, count, body,
                        body + count)
                }
            }
        }
        precondition(ok == 1, "OpenSSL AES-256-GCM encryption failed")
    }

    /// Opens what `seal` made; nil when the tag does not authenticate it (wrong key, changed bytes, other object).
    public static func open(_ sealed: [UInt8], key: [UInt8], associated: [UInt8]) -> [UInt8]? {
        guard sealed.count >= nonceLength + tagLength else { return nil }
        var ok = false
        let plain = [UInt8](unsafeUninitializedCapacity: sealed.count - nonceLength - tagLength) { buffer, count in
            ok = sealed.withUnsafeBytes {
                open($0, key: key, associated: associated, into: UnsafeMutableRawBufferPointer(buffer))
            }
            count = ok ? buffer.count : 0
        }
        return ok ? plain : nil
    }

    /// Opens what `seal` made into `plain`, which holds exactly `openedCount(sealed.count)` bytes; false when the
    /// tag does not authenticate it. A restore opens blobs into one reused buffer this way.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: [UInt8], associated: [UInt8], into plain: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(key.count == keyLength)
        guard sealed.count >= nonceLength + tagLength else { return false }
        let count = sealed.count - nonceLength - tagLength
        precondition(plain.count == count, "the buffer to open into is not the sealed text's size")
        let base = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var spare: UInt8 = 0  // somewhere to point at when there is no plain text (an empty buffer has no address)
        let ok = withUnsafeMutablePointer(to: &spare) { spare in
            key.withUnsafeBufferPointer { key in
                associated.withUnsafeBufferPointer { associated in
                    copenssl_aes256gcm_open(
                        key.baseAddress, base, associated.baseAddress, associated.count, base + nonceLength, count,
                        base + nonceLength + count, plain.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? spare)
                }
            }
        }
        return ok == 1
    }

    /// The plain size of a sealed text of `sealedCount` bytes (nil when it is too short to be one).
    public static func openedCount(_ sealedCount: Int) -> Int? {
        sealedCount >= nonceLength + tagLength ? sealedCount - nonceLength - tagLength : nil
    }

    /// scrypt parameters: cost `n` (a power of two), block size `r`, parallelism `p`.
    public struct ScryptParameters: Codable, Sendable, Equatable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64

        /// 2^15 × 8 × 128 bytes = 32 MiB of memory and about a tenth of a second here: restic's range.
        public static let standard = ScryptParameters(n: 1 << 15, r: 8, p: 1)

        public init(n: UInt64, r: UInt64, p: UInt64) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// Memory scrypt needs: 128 × r × (n + p) bytes, plus room.
        var memory: UInt64 { 128 * r * (n + p) + (1 << 20) }

        /// Why these parameters cannot be used (a damaged or hostile key object), or nil.
        var problem: String? {
            guard n >= 2, n & (n - 1) == 0, n <= 1 << 22 else { return "scrypt N \(n) is not a power of two ≤ 2^22" }
            guard (1...32).contains(r), (1...16).contains(p) else { return "scrypt r \(r) or p \(p) out of range" }
            return nil
        }
    }

    /// Derives `length` bytes from a password with scrypt; nil when the parameters are unusable.
    public static func scrypt(password: [UInt8], salt: [UInt8], parameters: ScryptParameters, length: Int = keyLength)
        -> [UInt8]?
    {
        guard parameters.problem == nil else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        // OpenSSL wants a pointer even for an empty password.
        let buffer = password.map { CChar(bitPattern: $0) } + [0]
        let ok = out.withUnsafeMutableBufferPointer { out in
            buffer.withUnsafeBufferPointer { text in
                salt.withUnsafeBufferPointer { salt in
                    copenssl_scrypt(
                        text.baseAddress, password.count, salt.baseAddress, salt.count, parameters.n, parameters.r,
                        parameters.p, parameters.memory, out.baseAddress, length)
                }
            }
        }
        return ok == 1 ? out : nil
    }
}
