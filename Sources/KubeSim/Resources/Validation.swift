/// The name rules of the real API server (k8s.io/apimachinery/pkg/util/validation).
enum NameRule: Sendable {
    case dns1123Subdomain, dns1123Label, dns1035Label, pathSegment

    /// Why `name` breaks the rule, in the real server's words; nil when valid.
    func problems(_ name: String) -> [String] {
        switch self {
        case .dns1123Subdomain: Validation.dns1123Subdomain(name)
        case .dns1123Label: Validation.dns1123Label(name)
        case .dns1035Label: Validation.dns1035Label(name)
        case .pathSegment: Validation.pathSegment(name)
        }
    }
}

enum Validation {
    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isDNS1123Label(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        + "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        + "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
        + "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    static let qualifiedNameMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        + "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        + "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    static func dns1123Subdomain(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.isEmpty || !parts.allSatisfy(isDNS1123Label) { problems.append(subdomainMessage) }
        return problems
    }

    static func dns1123Label(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isDNS1123Label(name[...]) { problems.append(labelMessage) }
        return problems
    }

    static func dns1035Label(_ name: String) -> [String] {
        var problems: [String] = []
        if name.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        let startsWithLetter = name.utf8.first.map { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) } ?? false
        if !startsWithLetter || !isDNS1123Label(name[...]) { problems.append(dns1035Message) }
        return problems
    }

    static func pathSegment(_ name: String) -> [String] {
        if name == "." { return ["may not be '.'"] }
        if name == ".." { return ["may not be '..'"] }
        var problems: [String] = []
        if name.contains("/") { problems.append("may not contain '/'") }
        if name.contains("%") { problems.append("may not contain '%'") }
        return problems
    }

    private static func isQualifiedNamePart(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 63, let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else {
            return false
        }
        return bytes.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    static func labelValue(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isQualifiedNamePart(value[...]) { problems.append(labelValueMessage) }
        return problems
    }

    static func labelKey(_ key: String) -> [String] {
        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var problems: [String] = []
        if parts.count == 2 {
            problems += dns1123Subdomain(String(parts[0])).map { "prefix part " + $0 }
        }
        if let name = parts.last, !isQualifiedNamePart(name) { problems.append(qualifiedNameMessage) }
        return problems
    }
}
