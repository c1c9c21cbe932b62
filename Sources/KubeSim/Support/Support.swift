import Foundation

/// RFC 3339 UTC timestamps with second precision, as metadata.creationTimestamp carries them.
enum Timestamp {
    static func rfc3339(epochSeconds: Int) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func now() -> String { rfc3339(epochSeconds: Int(Date().timeIntervalSince1970)) }
}

/// SplitMix64: small, fast and deterministic from a seed (generator, fault fractions).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

enum Identifiers {
    /// The alphabet of generateName suffixes (k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable digits).
    static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    static func randomSuffix(length: Int = 5, using generator: inout some RandomNumberGenerator) -> String {
        String(decoding: (0..<length).map { _ in suffixAlphabet.randomElement(using: &generator)! }, as: UTF8.self)
    }

    static func randomSuffix(length: Int = 5) -> String {
        var generator = SystemRandomNumberGenerator()
        return randomSuffix(length: length, using: &generator)
    }

    static func uuid() -> String { UUID().uuidString.lowercased() }

    /// A version-4-shaped UUID from a deterministic generator.
    static func uuid(using generator: inout some RandomNumberGenerator) -> String {
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { bytes.append(UInt8(ascii: "-")) }
            var nibble = Int((index < 16 ? high >> (60 - 4 * index) : low >> (60 - 4 * (index - 16))) & 0xF)
            if index == 12 { nibble = 4 }
            if index == 16 { nibble = 8 | (nibble & 3) }
            bytes.append(hex[nibble])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The opaque continue token: base64url of {"v","rv","start"} like the real server's, plus the issue time (for the
/// compaction window) and the number of explicit compactions so far ("e").
struct ContinueToken: Sendable, Equatable {
    var revision: UInt64
    /// The first key of the next page ("lastKey\u{0}", as the real server writes it).
    var start: String
    /// When the list's first page was served, in milliseconds since 1970.
    var issuedMilliseconds: Int64
    var compactions: Int

    func encoded() -> String {
        let json: JSONValue = [
            "v": "meta.k8s.io/v1", "rv": .number(String(revision)), "start": .string(start),
            "t": .number(String(issuedMilliseconds)), "e": .number(String(compactions)),
        ]
        return Data(json.encoded()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(revision: UInt64, start: String, issuedMilliseconds: Int64, compactions: Int) {
        self.revision = revision
        self.start = start
        self.issuedMilliseconds = issuedMilliseconds
        self.compactions = compactions
    }

    init?(decoding token: String) {
        var text = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let json = try? JSONValue.parse(Array(data)),
            json["v"]?.stringValue == "meta.k8s.io/v1", case .number(let revision)? = json["rv"],
            let parsedRevision = UInt64(revision), let start = json["start"]?.stringValue
        else { return nil }
        self.revision = parsedRevision
        self.start = start
        if case .number(let issued)? = json["t"] {
            issuedMilliseconds = Int64(issued) ?? 0
        } else {
            issuedMilliseconds = 0
        }
        if case .number(let epoch)? = json["e"] { compactions = Int(epoch) ?? 0 } else { compactions = 0 }
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
