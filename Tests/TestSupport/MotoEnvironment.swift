import Foundation
import SystemIO

/// The moto S3 server that `scripts/with-moto.sh` starts, as its exported variables describe it.
///
/// S3 suites use `.enabled(if: MotoEnvironment.isAvailable)`; `problemOnCI` makes sure CI never skips them silently.
public struct MotoEnvironment: Sendable, Equatable {
    public static let endpointVariable = "VELERO_CAS_TEST_S3_ENDPOINT"
    public static let accessKeyVariable = "VELERO_CAS_TEST_S3_ACCESS_KEY"
    public static let secretKeyVariable = "VELERO_CAS_TEST_S3_SECRET_KEY"

    /// e.g. "http://127.0.0.1:41234" (no trailing slash).
    public let endpoint: String
    public let accessKey: String
    public let secretKey: String

    /// Reads the three variables; nil unless all are set and non-empty.
    public init?(environment: [String: String]) {
        guard let endpoint = environment[Self.endpointVariable], !endpoint.isEmpty,
            let accessKey = environment[Self.accessKeyVariable], !accessKey.isEmpty,
            let secretKey = environment[Self.secretKeyVariable], !secretKey.isEmpty
        else { return nil }
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.endpoint = trimmed
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    /// The moto server of this test run, if any.
    public static let current: MotoEnvironment? = MotoEnvironment(environment: ProcessInfo.processInfo.environment)

    public static var isAvailable: Bool { current != nil }

    /// host:port of the endpoint, as a Host header carries it.
    public var authority: String {
        guard let range = endpoint.range(of: "://") else { return endpoint }
        return String(endpoint[range.upperBound...])
    }

    /// Why S3 tests would be skipped although `CI` is "true"; nil when they run or when not on CI.
    public static func problemOnCI(environment: [String: String]) -> String? {
        guard environment["CI"] == "true", MotoEnvironment(environment: environment) == nil else { return nil }
        return "CI is true but \(endpointVariable), \(accessKeyVariable) and \(secretKeyVariable) are not all set: "
            + "run the tests under scripts/with-moto.sh so the S3 suites are not skipped"
    }

    /// A fresh bucket name (lowercase, 3–63 characters) for one test.
    public static func uniqueBucketName(_ label: String) -> String {
        let cleaned = String(label.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(30))
        return "vc-\(cleaned)-\(Path.randomSuffix())"
    }
}
