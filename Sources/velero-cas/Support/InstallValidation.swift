import ArgumentParser
import Foundation
import SystemIO

/// The checks `install` makes of its flags; every error names the flag and the value.
enum InstallValidation {
    /// A namespace name: a DNS-1123 label.
    static func namespace(_ name: String, flag: String) throws {
        let allowed = name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 63, allowed, name.first != "-", name.last != "-" else {
            throw ValidationError(
                "\(flag) '\(name)' is not a namespace name: at most 63 lowercase letters, digits and '-', "
                    + "starting and ending with a letter or digit")
        }
    }

    static func image(_ image: String, flag: String = "--image") throws {
        guard !image.isEmpty, !image.contains(where: { $0.isWhitespace }) else {
            throw ValidationError("\(flag) '\(image)' is not an image reference (e.g. registry/velero-cas:0.5.0)")
        }
    }

    /// Label pairs k=v with Kubernetes' label value rules (values up to 63 characters, alphanumeric ends).
    static func labels(_ values: [String], flag: String) throws -> [String: String] {
        let labels = try keyValues(commaList(values).joined(separator: ","), flag: flag)
        for (key, value) in labels {
            let valid =
                value.count <= 63
                && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            guard valid,
                value.isEmpty
                    || (value.first!.isLetter || value.first!.isNumber)
                        && (value.last!.isLetter || value.last!.isNumber)
            else { throw ValidationError("\(flag) '\(key)=\(value)': '\(value)' is not a valid label value") }
        }
        return labels
    }

    static let awsConfigKeys = ["region", "s3Url", "s3ForcePathStyle", "profile"]

    /// The default location: aws with a bucket and Velero's AWS config keys, or local with config path=DIR.
    static func location(provider: String, bucket: String?, prefix: String?, config: [String: String]) throws
        -> InstallManifests.Location
    {
        if let bucket, bucket.hasPrefix("-") {
            throw ValidationError("--bucket '\(bucket)' cannot begin with a dash (was an environment variable empty?)")
        }
        switch provider {
        case "aws":
            guard let bucket, !bucket.isEmpty else { throw ValidationError("--provider aws needs --bucket") }
            for key in config.keys.sorted() where !awsConfigKeys.contains(key) {
                throw ValidationError(
                    "--backup-location-config key '\(key)' is not supported for provider aws "
                        + "(supported: \(awsConfigKeys.joined(separator: ", ")))")
            }
            if let style = config["s3ForcePathStyle"], CommandLineForms.goBool(style) == nil {
                throw ValidationError("--backup-location-config s3ForcePathStyle takes true or false, not '\(style)'")
            }
            if let url = config["s3Url"], !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw ValidationError("--backup-location-config s3Url '\(url)' must be an http:// or https:// URL")
            }
            return .init(provider: provider, bucket: bucket, prefix: prefix, config: config)
        case "local":
            if let bucket { throw ValidationError("--bucket '\(bucket)' is not for --provider local (use path=DIR)") }
            if let prefix { throw ValidationError("--prefix '\(prefix)' is not for --provider local (use path=DIR)") }
            guard let path = config["path"], path.hasPrefix("/"), config.count == 1 else {
                throw ValidationError(
                    "--provider local needs --backup-location-config path=DIR (an absolute path in the server's pod), "
                        + "and nothing else; got '\(config.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ","))'"
                )
            }
            return .init(provider: provider, bucket: nil, prefix: nil, config: ["path": path])
        default:
            throw ValidationError("--provider '\(provider)' is not supported (use aws or local)")
        }
    }

    /// The credentials file's bytes; for aws it must be AWS INI with a key id and a secret.
    static func credentials(_ path: String, provider: String?) async throws -> [UInt8] {
        let bytes = try await read(path, flag: "--secret-file")
        if provider == "aws" {
            let text = String(decoding: bytes, as: UTF8.self)
            let keys = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
                let parts = line.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? parts[0].trimmingCharacters(in: .whitespaces) : nil
            }
            guard text.contains("["), keys.contains("aws_access_key_id"), keys.contains("aws_secret_access_key") else {
                throw ValidationError(
                    "--secret-file '\(path)' is not an AWS credentials file: it needs a [profile] section with "
                        + "aws_access_key_id and aws_secret_access_key")
            }
        }
        return bytes
    }

    /// The store's password from a file (trailing newline dropped), or 32 random bytes as hex.
    static func storePassword(_ path: String?) async throws -> String {
        guard let path else {
            var generator = SystemRandomNumberGenerator()
            return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        }
        let text = String(decoding: try await read(path, flag: "--store-password-file"), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        guard !text.isEmpty else { throw ValidationError("--store-password-file '\(path)' is empty") }
        return text
    }

    private static func read(_ path: String, flag: String) async throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try await BlockingPool.shared.run { try Array(Data(contentsOf: URL(fileURLWithPath: path))) }
        } catch {
            throw ValidationError("\(flag) '\(path)' cannot be read: \(error.localizedDescription)")
        }
        guard !bytes.isEmpty else { throw ValidationError("\(flag) '\(path)' is empty") }
        return bytes
    }
}
