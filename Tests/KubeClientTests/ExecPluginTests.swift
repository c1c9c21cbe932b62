import Foundation
import Testing

@testable import KubeClient

@Suite("exec credential plugins")
struct ExecPluginTests {
    static let credential =
        #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-123"}}"#

    static func plugin(_ script: String) -> Kubeconfig.ExecConfig {
        Kubeconfig.ExecConfig(command: "sh", args: ["-c", script], env: nil, apiVersion: nil)
    }

    @Test("a plugin that writes 1 MiB to stderr before its credential does not stall on the full pipe")
    func chattyPlugin() async throws {
        let exec = Self.plugin("head -c 1048576 /dev/zero | tr '\\0' x >&2; echo '\(Self.credential)'")
        let (token, expires) = try await CredentialProvider.runPlugin(exec, timeout: .seconds(30))
        #expect(token == "tok-123")
        #expect(expires == nil)
    }

    @Test("a plugin that hangs is stopped after the timeout with an error that says so")
    func hangingPlugin() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: KubeConfigError.self) {
            _ = try await CredentialProvider.runPlugin(Self.plugin("sleep 300"), timeout: .milliseconds(300))
        }
        // Generous: the blocking pool may be busy with other suites, but nowhere near the plugin's 300 s.
        #expect(ContinuousClock.now - started < .seconds(150), "the plugin was stopped, not waited for")
        #expect("\(error.map { "\($0)" } ?? "")".contains("did not finish within"), "\(String(describing: error))")
    }

    @Test("a failing plugin's exit status and the end of its stderr are in the error")
    func failingPlugin() async throws {
        let error = await #expect(throws: KubeConfigError.self) {
            _ = try await CredentialProvider.runPlugin(
                Self.plugin("echo 'token expired, run login' >&2; exit 3"), timeout: .seconds(30))
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("exit 3") && message.contains("token expired, run login"), "\(message)")
    }
}
