import Testing

@Suite("--help and help")
struct HelpTests {
    @Test(
        "--help, -h and help <command> print that command's usage on standard output and exit 0",
        arguments: [
            (["--help"], "USAGE: velero-cas <subcommand>"),
            (["backup", "--help"], "USAGE: velero-cas backup <subcommand>"),
            (["backup", "logs", "--help"], "USAGE: velero-cas backup logs"),
            (["restore", "describe", "-h"], "USAGE: velero-cas restore describe"),
            (["store", "backup-dir", "-h"], "USAGE: velero-cas store backup-dir"),
            (["help", "backup", "describe"], "USAGE: velero-cas backup describe"),
            (["help", "gc"], "USAGE: velero-cas gc"),
        ] as [([String], String)])
    func help(_ arguments: [String], usage: String) async throws {
        let result = try await CLIRunner.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.errors)")
        #expect(result.output.contains(usage), "\(arguments) printed: \(result.output.prefix(300))")
        #expect(!result.errors.contains("Error"), "\(arguments): \(result.errors)")
    }

    @Test("the verbs that read a backup's files through the server say how they choose it")
    func throughServerFlags() async throws {
        let result = try await CLIRunner.run(["backup", "logs", "--help"])
        for flag in ["--server", "--local", "--namespace", "--store"] {
            #expect(result.output.contains(flag), "\(flag): \(result.output)")
        }
    }
}
