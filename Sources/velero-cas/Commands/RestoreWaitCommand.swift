import ArgumentParser
import Foundation
import VeleroAPI
import VeleroServer

/// `velero-cas restore-wait <restore uid>`: the `restore-wait` init container's program (see `RestoreWait`).
struct RestoreWaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-wait",
        abstract: "Wait until the node agent has restored every volume of this pod (the restore-wait init container).",
        discussion: """
            Restored pods whose volumes have data from a node agent get this as their first init container, with \
            each such volume mounted at /restores/<volume>. It returns once every directory under /restores holds \
            the done file .velero/<restore uid>, which the node agent writes after the volume's last byte, and \
            removes the .velero directories; the application's containers start only then. It fails after \
            --timeout, naming the volumes still without a done file.
            """)

    @Argument(help: "The restore's uid (the done file's name).") var restoreUID: String
    @Option(help: "Where the restored volumes are mounted, one directory each.") var restoresRoot = "/restores"
    @Option(help: "How often to look for the done files (Go duration).") var interval = "1s"
    @Option(help: "How long to wait at most (Go duration).") var timeout = "4h"

    func validate() throws {
        guard RestoreWait.isValidRestoreUID(restoreUID) else {
            throw ValidationError(
                "the restore uid '\(restoreUID)' cannot name a done file (it must be non-empty, without '/')")
        }
        guard restoresRoot.hasPrefix("/") else {
            throw ValidationError("--restores-root '\(restoresRoot)' must be an absolute path")
        }
        for (flag, value) in [("--interval", interval), ("--timeout", timeout)] {
            guard let seconds = KubeDuration.seconds(value), seconds >= 0.01 else {
                throw ValidationError("\(flag) '\(value)' must be a Go duration of at least 10ms (e.g. 1s, 4h)")
            }
        }
    }

    func run() async throws {
        let wait = RestoreWait(
            restoreUID: restoreUID, root: restoresRoot, interval: Self.duration(interval),
            timeout: Self.duration(timeout), output: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) })
        _ = try await wait.run()
    }

    static func duration(_ text: String) -> Duration {
        .milliseconds(Int((KubeDuration.seconds(text) ?? 1) * 1000))
    }
}
