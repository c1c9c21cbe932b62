import Synchronization

/// Opens once, or fails once; tasks that wait before then go on (or throw) when it does. Cancelling a waiting task
/// ends its wait with `CancellationError`.
///
/// A backup into a store made by the same process reads its files while its lock is being taken; each chunk waits at
/// the gate, which opens once the lock is won, before it is added to a pack (`TreeBackup`).
final class Gate: Sendable {
    private enum Outcome {
        case open
        case failed(any Error)
    }

    private struct State {
        var outcome: Outcome?
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
        var cancelled: Set<Int> = []
        var next = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Whether it has opened.
    var isOpen: Bool {
        state.withLock { state in
            if case .open? = state.outcome { return true }
            return false
        }
    }

    /// Opens the gate: every wait ends, now and later.
    func open() { settle(.open) }

    /// Fails the gate: every wait throws `error`, now and later (nothing that waits may go on).
    func fail(_ error: any Error) { settle(.failed(error)) }

    private func settle(_ outcome: Outcome) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard state.outcome == nil else { return [] }
            state.outcome = outcome
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting {
            switch outcome {
            case .open: continuation.resume()
            case .failed(let error): continuation.resume(throwing: error)
            }
        }
    }

    /// Returns once the gate is open; throws if it failed or the task is cancelled first.
    func wait() async throws {
        let id = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    switch state.outcome {
                    case .open?: return .success(())
                    case .failed(let error)?: return .failure(error)
                    case nil:
                        if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                        state.waiting[id] = continuation
                        return nil
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let continuation = state.waiting.removeValue(forKey: id) else {
                    if state.outcome == nil { state.cancelled.insert(id) }
                    return nil
                }
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
