import SystemIO

/// An access key pair (and session token), found the way the AWS CLI finds one.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Environment variables first (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) unless a
    /// profile is named, then the profile (`profile` ?? `AWS_PROFILE` ?? "default") in the shared credentials file
    /// (`AWS_SHARED_CREDENTIALS_FILE` or ~/.aws/credentials).
    public static func resolve(profile: String?, environment: [String: String]) throws(S3Error) -> AWSCredentials {
        if profile == nil, let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !id.isEmpty, !secret.isEmpty
        {
            return AWSCredentials(
                accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        let name = profile ?? environment["AWS_PROFILE"] ?? "default"
        let file =
            environment["AWS_SHARED_CREDENTIALS_FILE"] ?? ((environment["HOME"] ?? "/root") + "/.aws/credentials")
        let text: String
        do {
            text = String(decoding: try FileSystem.readFile(file), as: UTF8.self)
        } catch {
            throw .credentialsMissing(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile '\(name)' to \(file) (\(error))"
            )
        }
        guard let section = parseINI(text)[name] else {
            throw .credentialsMissing("profile '\(name)' is not in \(file)")
        }
        guard let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"], !id.isEmpty,
            !secret.isEmpty
        else {
            throw .credentialsMissing("profile '\(name)' in \(file) lacks aws_access_key_id or aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"])
    }

    /// Sections of an INI file; "[profile x]" headers (the config file's form) are read as "x".
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimming(" \t")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimming(" \t")
                if name.hasPrefix("profile ") { name = name.dropFirst(8).trimming(" \t") }
                current = name
                sections[name, default: [:]] = sections[name, default: [:]]
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimming(" \t").lowercased()
            sections[current]![key] = line[line.index(after: equals)...].trimming(" \t")
        }
        return sections
    }
}

extension StringProtocol {
    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
