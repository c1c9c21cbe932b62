/// Finds values inside JSON text without decoding it, so a LIST of 100,000 objects can be sliced into its items'
/// original bytes (kept byte-for-byte) and only each item's `metadata` decoded.
public enum JSONScanner {
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var offset: Int
        public var description: String { "malformed JSON at byte \(offset)" }
    }

    /// The byte ranges of the top-level object's members: name → value range.
    public static func members(of bytes: UnsafeRawBufferPointer, in range: Range<Int>? = nil) throws(Malformed)
        -> [(name: String, value: Range<Int>)]
    {
        var scanner = Scanner(bytes: bytes, index: range?.lowerBound ?? 0, end: range?.upperBound ?? bytes.count)
        var result: [(String, Range<Int>)] = []
        try scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: "{"))
        try scanner.skipWhitespace()
        if try scanner.peek() == UInt8(ascii: "}") { return [] }
        while true {
            try scanner.skipWhitespace()
            let nameRange = try scanner.skipString()
            let name = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[nameRange.lowerBound + 1..<nameRange.upperBound - 1]),
                as: UTF8.self)
            try scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"))
            try scanner.skipWhitespace()
            let value = try scanner.skipValue()
            result.append((name, value))
            try scanner.skipWhitespace()
            let next = try scanner.next()
            if next == UInt8(ascii: "}") { return result }
            guard next == UInt8(ascii: ",") else { throw Malformed(offset: scanner.index - 1) }
        }
    }

    /// The byte ranges of the elements of the array at `range`.
    public static func elements(of bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(Malformed) -> [Range<
        Int
    >] {
        var scanner = Scanner(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        var result: [Range<Int>] = []
        try scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: "["))
        try scanner.skipWhitespace()
        if try scanner.peek() == UInt8(ascii: "]") { return [] }
        while true {
            try scanner.skipWhitespace()
            result.append(try scanner.skipValue())
            try scanner.skipWhitespace()
            let next = try scanner.next()
            if next == UInt8(ascii: "]") { return result }
            guard next == UInt8(ascii: ",") else { throw Malformed(offset: scanner.index - 1) }
        }
    }

    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index: Int
        let end: Int

        func peek() throws(Malformed) -> UInt8 {
            guard index < end else { throw Malformed(offset: index) }
            return bytes[index]
        }

        mutating func next() throws(Malformed) -> UInt8 {
            let byte = try peek()
            index += 1
            return byte
        }

        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard try next() == byte else { throw Malformed(offset: index - 1) }
        }

        mutating func skipWhitespace() throws(Malformed) {
            while index < end,
                bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
            {
                index += 1
            }
        }

        mutating func skipString() throws(Malformed) -> Range<Int> {
            let start = index
            try expect(UInt8(ascii: "\""))
            while true {
                let byte = try next()
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return start..<index
                }
            }
        }

        /// Skips one value of any kind; nested containers are matched by depth, strings by their quotes.
        mutating func skipValue() throws(Malformed) -> Range<Int> {
            let start = index
            let first = try peek()
            if first == UInt8(ascii: "\"") { return try skipString() }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                var depth = 0
                while true {
                    let byte = try peek()
                    switch byte {
                    case UInt8(ascii: "\""): _ = try skipString()
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                        index += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        index += 1
                        if depth == 0 { return start..<index }
                    default: index += 1
                    }
                }
            }
            // number, true, false, null
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20
                    || byte == 0x0A || byte == 0x0D || byte == 0x09
                {
                    break
                }
                index += 1
            }
            guard index > start else { throw Malformed(offset: start) }
            return start..<index
        }
    }
}
