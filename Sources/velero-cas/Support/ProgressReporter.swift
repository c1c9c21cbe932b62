import ChunkStore
import Collectors
import Foundation

/// Redraws one status line on stderr every half second while work runs; silent when stderr is not a terminal.
final class ProgressReporter: Sendable {
    private let task: Task<Void, Never>?

    /// `line` gets the seconds elapsed and returns what to show.
    init(enabled: Bool = isatty(2) == 1, line: @escaping @Sendable (Double) -> String) {
        guard enabled else {
            task = nil
            return
        }
        let start = ContinuousClock.now
        task = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let elapsed = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(elapsed)).utf8))
            }
        }
    }

    /// Files and bytes of a tree backup or restore, with rate and ETA.
    convenience init(label: String, progress: TreeProgress) {
        self.init { elapsed in
            let done = Int64(progress.bytesDone)
            let total = Int64(progress.bytesTotal)
            var line = "\(label): \(progress.filesDone) files, \(Format.bytes(done))"
            if total > 0 { line += " of \(Format.bytes(total))" }
            line += ", \(Format.rate(done, seconds: elapsed))"
            if total > done, done > 0, elapsed > 0 {
                line += String(format: ", ETA %.0fs", Double(total - done) / (Double(done) / elapsed))
            }
            return line
        }
    }

    /// Resource types, objects, bytes and objects/s of a collection.
    convenience init(collection progress: CollectionProgress) {
        let start = ContinuousClock.now
        self.init { _ in progress.line(since: start) }
    }

    func stop() {
        guard let task else { return }
        task.cancel()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
