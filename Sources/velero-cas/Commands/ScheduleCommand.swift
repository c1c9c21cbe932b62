import ArgumentParser
import ChunkStore
import Foundation
import VeleroAPI

/// Schedules are Schedule objects that a velero-cas server runs; every verb here needs one.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Back up on a cron schedule (Schedule objects; needs a velero-cas server in the cluster).",
        subcommands: [
            ScheduleCreateCommand.self, ScheduleGetCommand.self, ScheduleDescribeCommand.self,
            ScheduleDeleteCommand.self, SchedulePauseCommand.self, ScheduleUnpauseCommand.self,
        ])
}

/// The cluster and the server every schedule verb works through.
struct ScheduleServerOptions: ParsableArguments {
    @OptionGroup var mode: ModeOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var global: GlobalOptions

    func session() async throws -> ServerSession {
        try global.bootstrapLogging()
        return try await mode.requireServer(cluster: cluster, what: "velero-cas schedule")
    }
}

struct ScheduleCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a schedule: backups <name>-<yyyyMMddHHmmss> from the backup flags.")

    @Argument(help: "The schedule's name.") var name: String
    @Option(help: "When: five-field cron (UTC), or @every <duration>, @hourly, @daily, @weekly, @monthly, @yearly.")
    var schedule: String
    @OptionGroup var spec: BackupSpecOptions
    @Option(help: "The BackupStorageLocation the backups go to (default: the server's default).")
    var storageLocation: String?
    @Flag(help: "Create it paused (no backups until 'schedule unpause').") var paused = false
    @Flag(help: "Skip the run due right after creation (or unpausing).") var skipImmediately = false
    @Flag(help: "Make the schedule the owner of its backups (they go when it is deleted).")
    var useOwnerReferencesInBackup = false
    @Option(name: .shortAndLong, help: "Print the Schedule as json or yaml instead of creating it.") var output:
        OutputFormat?
    @OptionGroup var server: ScheduleServerOptions

    func validate() throws {
        if output == .table { throw ValidationError("-o takes json or yaml for schedule create") }
        do { _ = try CronSchedule(parsing: schedule) } catch {
            throw ValidationError("--schedule '\(schedule)': \(error)")
        }
    }

    func run() async throws {
        do { try ResourceName.validate(name, what: "schedule name") } catch {
            throw ValidationError("\(error)")
        }
        var object = Schedule(
            name: name, namespace: server.mode.veleroNamespace,
            spec: .init(schedule: schedule, template: try spec.backupSpec(storageLocation: storageLocation)))
        object.spec.paused = paused ? true : nil
        object.spec.skipImmediately = skipImmediately ? true : nil
        object.spec.useOwnerReferencesInBackup = useOwnerReferencesInBackup
        let labels = try spec.backupLabels
        let annotations = try spec.backupAnnotations
        if !labels.isEmpty { object.metadata.labels = labels }
        if !annotations.isEmpty { object.metadata.annotations = annotations }
        if let output { return try ObjectOutput.print([object], format: output, single: true) }
        try await server.session().create(object)
        print("Schedule \"\(name)\" created successfully.")
    }
}

struct ScheduleGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List schedules.")

    @OptionGroup var selection: RecordSelection
    @Flag(help: "Show each schedule's labels.") var showLabels = false
    @Option(name: .shortAndLong, help: "Output: table, json or yaml.") var output: OutputFormat = .table
    @OptionGroup var server: ScheduleServerOptions

    func run() async throws {
        let schedules = try await server.session().select(selection, as: Schedule.self)
        guard output == .table else { return try ObjectOutput.print(schedules, format: output, single: false) }
        print(ObjectTables.schedules(schedules, showLabels: showLabels).render())
    }
}

struct ScheduleDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show schedules in detail.")

    @OptionGroup var selection: RecordSelection
    @Option(name: .shortAndLong, help: "Output: table (for people), json or yaml.") var output: OutputFormat = .table
    @OptionGroup var server: ScheduleServerOptions

    func run() async throws {
        try await ObjectOutput.describe(
            try await server.session().select(selection, as: Schedule.self), selection: selection, format: output,
            each: ObjectDescriptions.schedule)
    }
}

/// The schedules a delete, pause or unpause acts on: names, `-l/--selector` or `--all` (exactly one).
struct ScheduleTargets: ParsableArguments {
    @OptionGroup var selection: RecordSelection
    @Flag(help: "Every schedule.") var all = false
    @OptionGroup var server: ScheduleServerOptions

    func validate() throws { try selection.validateDeletion(all: all, kind: "schedule") }

    /// The session and the schedules selected.
    func resolve() async throws -> (ServerSession, [Schedule]) {
        let session = try await server.session()
        return (session, try await session.select(selection, as: Schedule.self))
    }
}

struct ScheduleDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete schedules (their backups stay, unless the schedule owns them).")

    @OptionGroup var targets: ScheduleTargets
    @Flag(help: "Confirm the deletion.") var confirm = false

    func run() async throws {
        let (session, schedules) = try await targets.resolve()
        let names = try targets.selection.namesToDelete(schedules.map(\.name), kind: "schedule", confirm: confirm)
        for name in names {
            try await session.delete(Schedule.self, name)
            print("Schedule deleted: \(name)")
        }
    }
}

struct SchedulePauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause schedules.")

    @OptionGroup var targets: ScheduleTargets

    func run() async throws { try await SchedulePausing.set(paused: true, skipImmediately: nil, targets) }
}

struct ScheduleUnpauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause schedules.")

    @OptionGroup var targets: ScheduleTargets
    @Flag(help: "Skip the run that is due right away.") var skipImmediately = false

    func run() async throws {
        try await SchedulePausing.set(paused: false, skipImmediately: skipImmediately ? true : nil, targets)
    }
}

enum SchedulePausing {
    /// Sets `spec.paused` (and `skipImmediately`) with a merge patch; schedules already so are left alone, as in
    /// Velero.
    static func set(paused: Bool, skipImmediately: Bool?, _ targets: ScheduleTargets) async throws {
        let (session, schedules) = try await targets.resolve()
        let word = paused ? "paused" : "unpaused"
        guard !schedules.isEmpty else { return print("No schedules found") }
        for schedule in schedules {
            guard (schedule.spec.paused ?? false) != paused else {
                print("Schedule \(schedule.name) is already \(word), skip")
                continue
            }
            var spec: [String: Any] = ["paused": paused]
            if let skipImmediately { spec["skipImmediately"] = skipImmediately }
            let patch = try JSONSerialization.data(withJSONObject: ["spec": spec])
            try await session.client.mergePatch(
                Schedule.resource, namespace: session.namespace, name: schedule.name, patch: Array(patch))
            print("Schedule \(schedule.name) \(word) successfully")
        }
    }
}
