import Foundation
import Logging
import Synchronization

/// The log of one backup or restore: the lines its tasks log while it runs, kept so they can be stored beside its
/// record (Velero's `<backup>-logs.gz`) and shown by `backup logs` / `restore logs`.
///
/// A run's lines are told apart from those of other runs in the same process by a task-local: everything the run's
/// task and its child tasks log (and unstructured `Task`s they start, which inherit task-locals) while
/// `RunLog.current` is set goes into that run's log, through `RunLogHandler`. Lines logged on threads outside
/// Swift concurrency (the blocking pool) carry no task-local and are not captured.
///
/// Bounded: past `limit` bytes, the first half of the limit keeps the run's beginning, the second half its most
/// recent lines, and one line says how many were left out between them.
public final class RunLog: Sendable {
    /// The log of the run the current task belongs to, if any.
    @TaskLocal public static var current: RunLog?

    /// 8 MiB of text: about 50 000 lines.
    public static let defaultLimit = 8 << 20

    private struct Lines {
        var head: [String] = []
        var headBytes = 0
        var tail: [String] = []
        var tailStart = 0
        var tailBytes = 0
        var dropped = 0
    }

    private let limit: Int
    private let lines = Mutex(Lines())

    /// Sets swift-log up through `RunLogging` unless the process did already, so that loggers made from now on
    /// write into run logs.
    /// - Parameter limit: the most bytes of text kept (at least 2).
    public init(limit: Int = RunLog.defaultLimit) {
        self.limit = max(2, limit)
        RunLogging.bootstrap()
    }

    /// Adds one line (without its newline).
    public func append(_ line: String) {
        let size = line.utf8.count + 1
        let half = limit / 2
        lines.withLock { lines in
            if lines.tail.isEmpty, lines.dropped == 0, lines.headBytes + size <= half {
                lines.head.append(line)
                lines.headBytes += size
                return
            }
            lines.tail.append(line)
            lines.tailBytes += size
            while lines.tailBytes > half, lines.tailStart < lines.tail.count {
                lines.tailBytes -= lines.tail[lines.tailStart].utf8.count + 1
                lines.tailStart += 1
                lines.dropped += 1
            }
            if lines.tailStart > 1024, lines.tailStart * 2 > lines.tail.count {
                lines.tail.removeFirst(lines.tailStart)
                lines.tailStart = 0
            }
        }
    }

    /// Adds a line in Velero's (logrus) text form: `time="…" level=… msg="…" logSource="…"`, plus the metadata.
    public func append(
        level: Logger.Level, message: String, source: String, metadata: Logger.Metadata? = nil, at time: Date = Date()
    ) {
        var line = "time=\"\(time.formatted(.iso8601))\" level=\(Self.levelName(level)) msg=\(Self.quoted(message))"
        for (key, value) in (metadata ?? [:]).sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quoted("\(value)"))"
        }
        append(line + " logSource=\(Self.quoted(source))")
    }

    /// The captured text: newline-terminated lines.
    public var text: String {
        lines.withLock { lines in
            var text = lines.head.map { $0 + "\n" }.joined()
            if lines.dropped > 0 {
                text += "… \(lines.dropped) lines left out: the log exceeded \(limit) bytes …\n"
            }
            text += lines.tail[lines.tailStart...].map { $0 + "\n" }.joined()
            return text
        }
    }

    /// logrus's names: `warning` as Velero's logs say it, `fatal` for critical.
    private static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warning"
        case .error: "error"
        case .critical: "fatal"
        }
    }

    /// A value in double quotes with `"`, `\` and control characters escaped, so one log line stays one line.
    public static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\x%02x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

/// A swift-log handler that writes each record into the current task's `RunLog` (none: the record is not kept).
/// Set up with `RunLogging.bootstrap`, beside the handler that writes to the terminal.
public struct RunLogHandler: LogHandler {
    public var label: String
    public var metadata: Logger.Metadata = [:]
    /// Runs keep info and up, whatever the terminal shows.
    public var logLevel: Logger.Level = .info

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard let log = RunLog.current else { return }
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        log.append(level: event.level, message: "\(event.message)", source: label, metadata: merged)
    }
}

/// swift-log's process-wide setup, done once: the terminal (standard error, at the level asked) and every run's own
/// log (`RunLogHandler`).
public enum RunLogging {
    private static let done = Mutex(false)

    /// Bootstraps swift-log unless this process already did (through here); returns whether this call did.
    /// The CLI calls it with `--log-level` first thing; the server, and every `RunLog`, call it as they are made, so
    /// that loggers made after that keep their run's lines (a logger keeps the handlers of the moment it was made).
    /// A process that bootstraps swift-log itself must do it through here.
    @discardableResult
    public static func bootstrap(terminalLevel: Logger.Level = .info) -> Bool {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return false }
        LoggingSystem.bootstrap { label in
            var terminal = StreamLogHandler.standardError(label: label)
            terminal.logLevel = terminalLevel
            return MultiplexLogHandler([terminal, RunLogHandler(label: label)])
        }
        return true
    }
}
