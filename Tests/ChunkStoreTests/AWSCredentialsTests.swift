import ChunkStore
import SystemIO
import TestSupport
import Testing

@Suite("AWS credentials")
struct AWSCredentialsTests {
    static let file = """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret

        [other]
        aws_access_key_id=OTHERKEY
        aws_secret_access_key=other/secret+with=signs
        aws_session_token = othertoken
        ; another comment
        [profile third]
        AWS_ACCESS_KEY_ID = THIRDKEY
        aws_secret_access_key = thirdsecret
        [incomplete]
        aws_access_key_id = ONLYID
        """

    /// Writes the credentials file into a fresh temporary directory; the caller removes it.
    private static func credentialsFile() throws -> (TemporaryDirectory, String) {
        let temp = try TemporaryDirectory("aws-credentials")
        let path = temp.sub("credentials")
        try Array(file.utf8).withUnsafeBytes { try FileSystem.writeAtomically(path, bytes: $0) }
        return (temp, path)
    }

    @Test func environmentVariablesComeFirst() throws {
        let environment = [
            "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        ]
        let credentials = try AWSCredentials.resolve(profile: nil, environment: environment)
        #expect(
            credentials == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "envtoken")
        )
    }

    @Test func profilesComeFromTheSharedCredentialsFile() throws {
        let (temp, path) = try Self.credentialsFile()
        defer { temp.remove() }
        let environment = ["AWS_SHARED_CREDENTIALS_FILE": path]
        #expect(
            try AWSCredentials.resolve(profile: nil, environment: environment)
                == AWSCredentials(accessKeyID: "DEFAULTKEY", secretAccessKey: "defaultsecret"))
        #expect(
            try AWSCredentials.resolve(profile: "other", environment: environment)
                == AWSCredentials(
                    accessKeyID: "OTHERKEY", secretAccessKey: "other/secret+with=signs", sessionToken: "othertoken"))
        #expect(try AWSCredentials.resolve(profile: "third", environment: environment).accessKeyID == "THIRDKEY")
        var withProfile = environment
        withProfile["AWS_PROFILE"] = "other"
        #expect(try AWSCredentials.resolve(profile: nil, environment: withProfile).accessKeyID == "OTHERKEY")
        // A named profile beats keys in the environment.
        withProfile["AWS_ACCESS_KEY_ID"] = "ENVKEY"
        withProfile["AWS_SECRET_ACCESS_KEY"] = "envsecret"
        #expect(try AWSCredentials.resolve(profile: "third", environment: withProfile).accessKeyID == "THIRDKEY")
    }

    @Test func missingProfileNamesTheProfileAndTheFile() throws {
        let (temp, path) = try Self.credentialsFile()
        defer { temp.remove() }
        let error = #expect(throws: S3Error.self) {
            try AWSCredentials.resolve(profile: "nosuch", environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
        }
        guard case .credentialsMissing(let message)? = error else {
            Issue.record("expected credentialsMissing, got \(String(describing: error))")
            return
        }
        #expect(message.contains("'nosuch'") && message.contains(path), "\(message)")

        let incomplete = #expect(throws: S3Error.self) {
            try AWSCredentials.resolve(profile: "incomplete", environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
        }
        #expect(incomplete?.description.contains("aws_secret_access_key") == true)
    }

    @Test func missingFileIsCredentialsMissing() {
        let error = #expect(throws: S3Error.self) {
            try AWSCredentials.resolve(profile: nil, environment: ["HOME": "/nonexistent-home"])
        }
        guard case .credentialsMissing(let message)? = error else {
            Issue.record("expected credentialsMissing, got \(String(describing: error))")
            return
        }
        #expect(message.contains("/nonexistent-home/.aws/credentials"))
        #expect(message.contains("AWS_ACCESS_KEY_ID"))
    }
}
