import Synchronization

/// A streamed response (watches): first `.head` with the status and headers, then `.data` pieces as they arrive.
///
/// Backpressured: at most `HTTPClient.Configuration.streamBufferBytes` of body wait between curl and the consumer.
/// When that much is waiting, curl's write callback answers `CURL_WRITEFUNC_PAUSE`, curl stops reading the socket,
/// and TCP slows the server down; once the consumer has taken half of it, the driver thread unpauses the transfer.
/// A slow consumer therefore costs a bounded buffer, never memory that grows with what the server sends.
///
/// Dropping the stream (every copy and iterator) or cancelling the task waiting in `next()` aborts the transfer.
public struct HTTPResponseStream: AsyncSequence, Sendable {
    public typealias Element = HTTPStreamEvent
    let owner: StreamOwner

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: StreamOwner
        public mutating func next() async throws -> HTTPStreamEvent? { try await owner.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: owner) }

    /// The most body bytes that were waiting for the consumer at once, so far.
    public var bufferedBytesHighWater: Int { owner.buffer.highWater }
}

/// Ties the consumer's side to its transfer: aborts it when the consumer is cancelled or lets go of the stream.
final class StreamOwner: Sendable {
    let buffer: StreamBuffer
    private let transfer: Transfer
    private let driver: CurlDriver

    init(buffer: StreamBuffer, transfer: Transfer, driver: CurlDriver) {
        self.buffer = buffer
        self.transfer = transfer
        self.driver = driver
    }

    func next() async throws -> HTTPStreamEvent? {
        try await withTaskCancellationHandler {
            let (event, unpause) = try await buffer.take()
            if unpause { driver.unpause(transfer) }
            return event
        } onCancel: { [driver, transfer] in
            driver.cancel(transfer)
        }
    }

    deinit {
        if !buffer.isFinished { driver.cancel(transfer) }
    }
}

/// The events between the driver thread (producer) and the consuming task, with the count of body bytes held.
final class StreamBuffer: Sendable {
    private struct State {
        var events: [HTTPStreamEvent] = []
        var bufferedBytes = 0
        var highWater = 0
        var paused = false
        var end: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        precondition(limit > 0, "a stream buffer needs room for at least one byte")
        self.limit = limit
    }

    var highWater: Int { state.withLock { $0.highWater } }
    var isFinished: Bool { state.withLock { $0.end != nil } }

    // MARK: Producer (the driver thread)

    func yieldHead(status: Int, headers: [HTTPHeader]) {
        append(.head(status: status, headers: headers), bytes: 0)
    }

    /// Takes `bytes` unless the consumer already has its fill waiting; `false` means "pause the transfer": curl
    /// delivers the same bytes again once it is unpaused. One piece larger than the limit is taken when nothing
    /// waits, so a stream always moves.
    func offer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let accepted = state.withLock { state -> Bool in
            if state.bufferedBytes > 0 && state.bufferedBytes + bytes.count > limit {
                state.paused = true
                return false
            }
            return true
        }
        if accepted { append(.data(Array(bytes)), bytes: bytes.count) }
        return accepted
    }

    func finish(_ result: Result<Void, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.end == nil { state.end = result }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func append(_ event: HTTPStreamEvent, bytes: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.events.append(event)
            state.bufferedBytes += bytes
            state.highWater = max(state.highWater, state.bufferedBytes)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    // MARK: Consumer

    /// The next event (nil at the end) and whether the transfer should now be unpaused.
    func take() async throws -> (HTTPStreamEvent?, Bool) {
        while true {
            switch poll() {
            case .event(let event, let unpause): return (event, unpause)
            case .end(.success): return (nil, false)
            case .end(.failure(let error)): throw error
            case .empty:
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if !state.events.isEmpty || state.end != nil { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    private enum Poll {
        case event(HTTPStreamEvent, unpause: Bool)
        case end(Result<Void, any Error>)
        case empty
    }

    private func poll() -> Poll {
        state.withLock { state in
            guard !state.events.isEmpty else { return state.end.map(Poll.end) ?? .empty }
            let event = state.events.removeFirst()
            if case .data(let bytes) = event { state.bufferedBytes -= bytes.count }
            var unpause = false
            if state.paused && state.bufferedBytes <= limit / 2 {
                state.paused = false
                unpause = true
            }
            return .event(event, unpause: unpause)
        }
    }
}
