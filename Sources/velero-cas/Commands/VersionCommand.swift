import ArgumentParser
import Foundation

/// The client's version, and what it knows of the server.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    /// This build's version.
    static let current = "0.5.0"
    /// The backup tarball and API this version speaks.
    static let veleroAPI = "velero.io/v1"

    @Flag(help: "Print only the client's version.") var clientOnly = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var mode: ModeOptions
    @OptionGroup var cluster: ClusterOptions

    struct Report: Codable {
        var clientVersion: String
        var veleroAPI: String
        var backupFormatVersion: String
        var serverVersion: String?
        /// The namespace of the velero-cas server the verbs work through, when there is one.
        var serverNamespace: String?
    }

    func run() async throws {
        // Whether the verbs would work through a server (its presence Lease); its version is not reported yet.
        let server = clientOnly ? nil : try await mode.server(cluster: cluster, store: nil)
        let report = Report(
            clientVersion: Self.current, veleroAPI: Self.veleroAPI, backupFormatVersion: "1.1.0",
            serverVersion: nil, serverNamespace: server?.namespace)
        try output.print(report) {
            print("Client:\n\tVersion: \(report.clientVersion)\n\tVelero API: \(report.veleroAPI)")
            guard !clientOnly else { return }
            if let server {
                print(
                    "Server:\n\tvelero-cas server running in namespace \(server.namespace) (the verbs work through it)")
            } else {
                print("Server:\n\t<none found: this CLI runs backups and restores itself>")
            }
        }
    }
}

/// `completion bash|zsh|fish`: the shell completion script, as Velero's `velero completion` prints it.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion:
            "bash: source <(velero-cas completion bash); zsh: velero-cas completion zsh > \"${fpath[1]}/_velero-cas\"")

    @Argument(help: "bash, zsh or fish.") var shell: String

    func validate() throws {
        guard CompletionShell(rawValue: shell) != nil else {
            throw ValidationError("completion takes bash, zsh or fish, not '\(shell)'")
        }
    }

    func run() throws {
        print(VeleroCAS.completionScript(for: CompletionShell(rawValue: shell)!))
    }
}
