import Testing

@Suite("--help and help")
struct HelpTests {
    @Test(
        "--help prints the command's usage and exits 0; help <command> too",
        arguments: [
            ["--help"], ["backup", "--help"], ["backup", "logs", "--help"], ["restore", "describe", "-h"],
            ["help", "backup", "describe"],
        ])
    func help(_ arguments: [String]) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("USAGE: velero-cas"), "\(result.output)\(result.errors)")
        #expect(!result.errors.contains("CommandError"), "\(result.errors)")
    }

    @Test("the verbs that read a backup's files through the server say how they choose it")
    func throughServerFlags() throws {
        let result = try CLIRunner.run(["backup", "logs", "--help"])
        for flag in ["--server", "--local", "--namespace", "--store"] {
            #expect(result.output.contains(flag), "\(flag): \(result.output)")
        }
    }
}
