import Foundation

/// Why an S3 request failed, with S3's own error code where it sent one.
public enum S3Error: Error, CustomStringConvertible, Sendable {
    case credentialsMissing(String)
    case unreachable(endpoint: String, reason: String)
    case bucketNotFound(bucket: String, endpoint: String)
    case accessDenied(code: String, message: String, bucket: String)
    case requestFailed(operation: String, key: String, status: Int, code: String, message: String)

    public var description: String {
        switch self {
        case .credentialsMissing(let text): text
        case .unreachable(let endpoint, let reason): "cannot reach the S3 endpoint \(endpoint): \(reason)"
        case .bucketNotFound(let bucket, let endpoint): "bucket '\(bucket)' does not exist at \(endpoint)"
        case .accessDenied(let code, let message, let bucket):
            switch code {
            case "SignatureDoesNotMatch":
                "S3 rejected the request signature for bucket '\(bucket)': the secret access key does not match the access key id (\(message))"
            case "InvalidAccessKeyId":
                "S3 does not know the access key id used for bucket '\(bucket)' (\(message))"
            default: "access to bucket '\(bucket)' denied (\(code): \(message))"
            }
        case .requestFailed(let operation, let key, let status, let code, let message):
            "S3 \(operation) of '\(key)' failed with HTTP \(status)" + (code.isEmpty ? "" : " \(code)")
                + (message.isEmpty ? "" : ": \(message)")
        }
    }
}

/// The few elements of S3's XML answers that velero-cas reads; S3 XML is flat enough for a tag scanner.
enum S3XML {
    /// The text of every `<tag>…</tag>` in order, entities decoded.
    static func values(of tag: String, in xml: String) -> [String] {
        var results: [String] = []
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        var searchStart = xml.startIndex
        while let start = xml.range(of: open, range: searchStart..<xml.endIndex),
            let end = xml.range(of: close, range: start.upperBound..<xml.endIndex)
        {
            results.append(unescape(String(xml[start.upperBound..<end.lowerBound])))
            searchStart = end.upperBound
        }
        return results
    }

    static func value(of tag: String, in xml: String) -> String? { values(of: tag, in: xml).first }

    /// Each `<Contents>` block's key, size and LastModified (the store's clock).
    static func contents(in xml: String) -> [(key: String, size: Int, modified: Date?)] {
        values(of: "Contents", in: xml).compactMap { block in
            guard let key = value(of: "Key", in: block) else { return nil }
            return (
                key, Int(value(of: "Size", in: block) ?? "") ?? 0, value(of: "LastModified", in: block).flatMap(date)
            )
        }
    }

    /// An ISO 8601 timestamp as S3 writes it, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    /// Made once: a listing of many objects parses one timestamp per object.
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&#13;", "\r")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result.replacingOccurrences(of: "&amp;", with: "&")
    }
}
