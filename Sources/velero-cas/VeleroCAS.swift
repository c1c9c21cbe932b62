import ArgumentParser
import ChunkStore
import Foundation
import Logging
import Operations
import Synchronization
import SystemIO

@main
struct VeleroCAS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "velero-cas",
        abstract: "Back up, restore and migrate Kubernetes clusters into deduplicated, content-addressed storage.",
        discussion: """
            Velero's verb-first forms work too: get backups|restores|backup-locations|snapshot-locations, \
            describe backup NAME, create backup NAME, delete restore NAME, …
            """,
        subcommands: [
            BackupCommand.self, RestoreCommand.self, ScheduleCommand.self, BackupLocationCommand.self,
            SnapshotLocationCommand.self,
            GCCommand.self, VerifyCommand.self, StoreCommand.self, DemoCommand.self, VersionCommand.self,
            CompletionCommand.self, ServerCommand.self, NodeAgentCommand.self, RestoreWaitCommand.self,
            InstallCommand.self, UninstallCommand.self,
        ]
    )

    static func main() async {
        ProcessTuning.configureAllocator()
        let work = Task {
            var command: ParsableCommand
            do {
                command = try parseAsRoot(try CommandLineForms.normalize(Array(CommandLine.arguments.dropFirst())))
            } catch {
                throw UsageFailure(error: error)
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
        let received = Atomic<Int32>(0)
        do {
            try StopSignals.install { signal in
                // Nothing commits from here on (the locks are marked lost at once); the work is cancelled, and when
                // it has unwound, the locks are released and the process leaves with the conventional status. Work
                // that does not unwind within ten seconds is left behind the same way.
                guard received.compareExchange(expected: 0, desired: signal, ordering: .relaxed).exchanged else {
                    return
                }
                StoreLock.beginStopping()
                work.cancel()
                Task {
                    try? await Task.sleep(for: .seconds(10))
                    await stop(signal: signal)
                }
            }
        } catch {
            FileHandle.standardError.write(Data("velero-cas: \(error); SIGINT and SIGTERM stop it at once\n".utf8))
        }
        let outcome = await work.result
        // A lock taken ahead by the store's opening that the command never took up (it failed before its lock).
        await StoreLock.withdrawLocksAhead()
        let signal = received.load(ordering: .relaxed)
        if signal != 0 { await stop(signal: signal) }
        if case .failure(let error) = outcome { fail(error) }
    }

    /// Leaves with the error's message: with the usage when the command line was wrong, without it when the work
    /// failed (a runtime failure is not a usage error).
    static func fail(_ error: any Error) -> Never {
        switch error {
        case let usage as UsageFailure: exit(withError: usage.error)
        case is ExitCode, is CleanExit: exit(withError: error)
        case is ValidationError:
            // Thrown by the work: no usage.
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(1)
        // `--help`, `help <command>` and `--version` parse into the parser's own command, whose run throws the
        // request; the parser prints it (and exits 0).
        case _ where exitCode(for: error) == .success: exit(withError: error)
        default:
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

    /// Releases the store's locks and exits with 128 + the signal's number.
    static func stop(signal: Int32) async -> Never {
        await StoreLock.releaseAll()
        FileHandle.standardError.write(Data("velero-cas: stopped by signal \(signal)\n".utf8))
        Foundation.exit(128 + signal)
    }
}

/// The command line could not be parsed or validated.
struct UsageFailure: Error {
    var error: any Error
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "warning"

    func bootstrapLogging() throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError(
                "unknown --log-level '\(logLevel)' (use trace, debug, info, notice, warning, error or critical)")
        }
        // The terminal at the level asked; backups and restores also keep their own log (info and up).
        RunLogging.bootstrap(terminalLevel: level)
    }
}
