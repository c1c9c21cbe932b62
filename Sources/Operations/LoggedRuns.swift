import BackupModel
import ChunkStore
import Collectors
import Logging

extension BackupOperation {
    /// Runs the backup with its own log (`RunLog.current` is `log` for the run's tasks) and stores the log beside
    /// the backup's record, gzip-compressed (`RunLogStore`):
    /// - whenever the run ends with a record, whatever its phase (Completed, PartiallyFailed, Failed,
    ///   FailedValidation): just before the record is committed, whose commit makes the log durable too;
    /// - when the run throws before any record of the name is in the store (the store lock could not be taken, the
    ///   first record could not be written), so that failure has its log too; the next backup of the name replaces
    ///   it. A name that is not a valid object name gets no log (it would not be a safe key);
    /// - never when the name is taken (`CollectorError.alreadyExists`): that backup's log stays as it is.
    ///
    /// A log that cannot be stored does not fail the backup (its data and record are committed): the failure is
    /// logged.
    public func run(_ request: BackupRecord, log: RunLog) async throws -> BackupRecord {
        let logger = Logger(label: "velero-cas.backup")
        let key = BackupRecord.logKey(request.name)
        var operation = self
        operation.beforeFinalRecord = { await self.store(log, key: key, logger: logger, beforeRecord: true) }
        do {
            return try await RunLog.$current.withValue(log) { try await operation.run(request) }
        } catch {
            if case .alreadyExists? = error as? CollectorError { throw error }
            if (try? ResourceName.validate(request.name, what: "backup name")) != nil, await hasNoRecord(request.name) {
                RunLog.$current.withValue(log) { logger.error("backup \(request.name) failed: \(error)") }
                await store(log, key: key, logger: logger, beforeRecord: false)
            }
            throw error
        }
    }

    /// Whether the store certainly holds no record of the name (false when it cannot be read).
    private func hasNoRecord(_ name: String) async -> Bool {
        do {
            return try await repository.record(BackupRecord.self, key: BackupRecord.key(name)) == nil
        } catch {
            return false
        }
    }

    private func store(_ log: RunLog, key: String, logger: Logger, beforeRecord: Bool) async {
        do {
            if beforeRecord {
                try await RunLogStore.writeBeforeRecord(log, key: key, repository: repository)
            } else {
                try await RunLogStore.write(log, key: key, repository: repository)
            }
        } catch {
            logger.warning("could not store the log at \(key) in \(repository.store.location): \(error)")
        }
    }
}
