import ChunkStore
import Foundation

/// Redraws one status line on stderr every half second while work runs; silent when stderr is not a terminal.
final class ProgressReporter: Sendable {
    private let task: Task<Void, Never>?

    init(label: String, progress: TreeProgress, enabled: Bool = isatty(2) == 1) {
        guard enabled else {
            task = nil
            return
        }
        let start = ContinuousClock.now
        task = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let elapsed = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
                let done = Int64(progress.bytesDone)
                let total = Int64(progress.bytesTotal)
                var line = "\(label): \(progress.filesDone) files, \(Format.bytes(done))"
                if total > 0 { line += " of \(Format.bytes(total))" }
                line += ", \(Format.rate(done, seconds: elapsed))"
                if total > done, done > 0, elapsed > 0 {
                    let eta = Double(total - done) / (Double(done) / elapsed)
                    line += String(format: ", ETA %.0fs", eta)
                }
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            }
        }
    }

    func stop() {
        guard let task else { return }
        task.cancel()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
