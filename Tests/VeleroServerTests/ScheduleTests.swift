import Foundation
import KubeClient
import Testing
import VeleroAPI
import VeleroServer

@Suite("Cron schedules")
struct CronScheduleTests {
    static func utc(_ text: String) -> Date { KubeTime.parse(text)! }

    @Test(
        "the next run after a time",
        arguments: [
            ("0 * * * *", "2024-05-01T10:15:30Z", "2024-05-01T11:00:00Z"),
            ("*/15 * * * *", "2024-05-01T10:15:30Z", "2024-05-01T10:30:00Z"),
            ("*/15 * * * *", "2024-05-01T10:15:00Z", "2024-05-01T10:30:00Z"),
            ("5/20 * * * *", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"),
            ("30 2 * * 1-5", "2024-05-04T00:00:00Z", "2024-05-06T02:30:00Z"),
            ("0 0 1 * *", "2024-05-01T10:00:00Z", "2024-06-01T00:00:00Z"),
            ("0 12 13 * FRI", "2024-05-01T00:00:00Z", "2024-05-03T12:00:00Z"),
            ("0 0 * JAN,jul *", "2024-05-01T00:00:00Z", "2024-07-01T00:00:00Z"),
            ("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("0 0 * * 7", "2024-05-01T00:00:00Z", "2024-05-05T00:00:00Z"),
            ("@daily", "2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z"),
            ("@hourly", "2024-05-01T10:59:59Z", "2024-05-01T11:00:00Z"),
            ("@weekly", "2024-05-01T10:00:00Z", "2024-05-05T00:00:00Z"),
            ("@monthly", "2024-12-15T10:00:00Z", "2025-01-01T00:00:00Z"),
            ("@every 6h", "2024-05-01T10:00:00Z", "2024-05-01T16:00:00Z"),
            ("@every 90s", "2024-05-01T10:00:00Z", "2024-05-01T10:01:30Z"),
        ])
    func next(expression: String, after: String, expected: String) throws {
        let cron = try CronSchedule(parsing: expression)
        #expect(cron.next(after: Self.utc(after)) == Self.utc(expected))
    }

    @Test(
        "expressions cron refuses are refused, naming the problem",
        arguments: [
            ("", "5 fields"), ("* * * *", "5 fields"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"),
            ("* * 0 * *", "day of month"), ("* * * 13 *", "month"), ("* * * * 8", "day of week"),
            ("a * * * *", "not a number"), ("5-1 * * * *", "backwards"), ("*/0 * * * *", "step"),
            ("@every 0s", "@every"), ("@every 3000000000000000h", "@every"), ("@fortnightly", "unknown descriptor"),
            ("1,,2 * * * *", "malformed"),
        ])
    func invalid(expression: String, problem: String) {
        do {
            _ = try CronSchedule(parsing: expression)
            Issue.record("'\(expression)' was accepted")
        } catch {
            #expect(error.description.contains(problem), "\(error)")
        }
    }
}

@Suite("Schedules run by the server", .serialized)
struct ScheduleControllerTests {
    @Test("a Schedule with @every and an injected clock makes labelled backups, which the GC expires")
    func everyMakesBackupsThatExpire() async throws {
        try await ServerHarness.with { harness in
            var configuration = harness.configuration(gcFrequency: .milliseconds(200))
            configuration.scheduleCheckInterval = .milliseconds(100)
            try await harness.withServer(configuration) {
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Schedule","metadata":{"name":"hourly"},\
                    "spec":{"schedule":"@every 1h","useOwnerReferencesInBackup":true,\
                    "template":{"includedNamespaces":["\(harness.namespaces[0])"],"ttl":"3h"}}}
                    """, to: Schedule.resource, namespace: "velero")
                try await harness.apply(
                    #"{"apiVersion":"velero.io/v1","kind":"Schedule","metadata":{"name":"broken"},"spec":{"schedule":"61 * * * *","template":{"ttl":"later"}}}"#,
                    to: Schedule.resource, namespace: "velero")
                try await harness.apply(
                    """
                    {"apiVersion":"velero.io/v1","kind":"Schedule","metadata":{"name":"paused"},\
                    "spec":{"schedule":"@every 1h","paused":true,"template":{}}}
                    """, to: Schedule.resource, namespace: "velero")
                let broken = try await harness.waitFor("the broken schedule to be judged") {
                    let schedule = try await harness.schedule("broken")
                    return schedule.status?.phase == .failedValidation ? schedule : nil
                }
                #expect(broken.status?.validationErrors?.count == 2, "\(String(describing: broken.status))")
                _ = try await harness.waitFor("the schedule to be enabled") {
                    try await harness.schedule("hourly").status?.phase == .enabled ? true : nil
                }
                // Not due yet: nothing made.
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await harness.scheduledBackups().isEmpty)

                harness.clockOffset.withLock { $0 = 3600 + 5 }
                let first = try await harness.waitFor("the first scheduled backup") {
                    try await harness.scheduledBackups().first
                }
                let expectedPrefix = "hourly-"
                #expect(first.name.hasPrefix(expectedPrefix) && first.name.count == expectedPrefix.count + 14)
                #expect(first.metadata.labels?[Velero.scheduleNameLabel] == "hourly")
                // useOwnerReferencesInBackup: the schedule owns (controls) its backups.
                let owner = try await harness.schedule("hourly")
                let ownerJSON = String(
                    decoding: try await harness.client.get(Backup.resource, namespace: "velero", name: first.name)
                        .json, as: UTF8.self)
                #expect(ownerJSON.contains(#""ownerReferences""#) && ownerJSON.contains(owner.metadata.uid ?? "?"))
                #expect(try await harness.finishedBackup(first.name).phase == .completed)
                #expect(try await harness.schedule("hourly").status?.lastBackup != nil)
                // Due once per hour of the clock: still one backup.
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await harness.scheduledBackups().count == 1)

                harness.clockOffset.withLock { $0 = 2 * 3600 + 10 }
                let second = try await harness.waitFor("the second scheduled backup") { () -> Backup? in
                    let backups = try await harness.scheduledBackups()
                    guard backups.count == 2, backups.allSatisfy({ $0.phase == .completed }) else { return nil }
                    return backups.first { $0.name != first.name }
                }
                #expect(try await harness.schedule("paused").status?.lastBackup == nil)

                // Past the first backup's 3h TTL but not the second's: only the first goes (the schedule, due
                // again, makes a third).
                harness.clockOffset.withLock { $0 = 4 * 3600 + 30 }
                _ = try await harness.waitFor("the first scheduled backup to expire") {
                    try await harness.backup(first.name) == nil ? true : nil
                }
                #expect(try await harness.storedBackup(first.name) == nil)
                #expect(try await harness.backup(second.name)?.phase == .completed)
                #expect(try await harness.storedBackup(second.name) != nil)
            }
        }
    }
}

extension ServerHarness {
    func schedule(_ name: String) async throws -> Schedule {
        try Schedule.decode(try await client.get(Schedule.resource, namespace: "velero", name: name).json)
    }

    /// Backups labelled as made by the `hourly` schedule.
    func scheduledBackups() async throws -> [Backup] {
        var backups: [Backup] = []
        try await client.listAll(Backup.resource, namespace: "velero", labelSelector: "velero.io/schedule-name=hourly")
        { page in backups += try page.map { try Backup.decode($0.json) } }
        return backups
    }
}
