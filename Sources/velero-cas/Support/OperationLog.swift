import Logging
import Synchronization

/// Keeps the log lines of one backup or restore (info and above, whatever goes to the terminal) so they can be
/// stored beside its record and shown later by `backup logs` / `restore logs`. Bounded: the oldest lines give way.
final class OperationLog: Sendable {
    static let shared = OperationLog()
    private let lines = Mutex<[String]>([])
    private let limit = 20_000

    func append(_ line: String) {
        lines.withLock { lines in
            lines.append(line)
            if lines.count > limit { lines.removeFirst(lines.count - limit) }
        }
    }

    /// The captured text, newline-terminated lines.
    var text: String { lines.withLock { $0.map { $0 + "\n" }.joined() } }
}

/// A swift-log handler that writes into `OperationLog`.
struct CapturingLogHandler: LogHandler {
    var label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        OperationLog.shared.append("\(Format.date(.now)) \(event.level) \(label): \(event.message)")
    }
}
