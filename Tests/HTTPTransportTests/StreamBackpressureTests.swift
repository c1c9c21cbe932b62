import HTTPTransport
import Testing

/// A streamed response read by a slow consumer holds a bounded buffer: curl pauses the transfer, TCP stops the
/// server, and every byte still arrives once the consumer catches up.
@Suite("HTTP streams are backpressured")
struct StreamBackpressureTests {
    static let limit = 256 << 10

    @Test func aSlowConsumerPausesTheTransferAndStillGetsEverything() async throws {
        let server = try BulkServer(length: 64 << 20)
        defer { server.close() }
        let client = HTTPClient(configuration: .init(streamBufferBytes: Self.limit))
        let stream = try client.stream(HTTPRequest(method: .get, url: server.url, timeout: .seconds(120)))
        var iterator = stream.makeAsyncIterator()
        guard case .head(let status, _)? = try await iterator.next() else {
            Issue.record("the stream did not start with its head")
            return
        }
        #expect(status == 200)

        // The consumer stalls: the server could send all 64 MiB over loopback in this time if nothing pushed back (the
        // kernel's socket buffers may still take tens of MiB: what counts is that they, not this process, hold it).
        try await Task.sleep(for: .milliseconds(700))
        #expect(stream.bufferedBytesHighWater <= Self.limit, "held \(stream.bufferedBytesHighWater) bytes")
        #expect(!server.done, "the server sent everything (\(server.written) bytes) to a stalled reader")

        var received = 0
        var mismatch: Int?
        while case .data(let bytes)? = try await iterator.next() {
            // Each piece's first and last byte against the pattern (period 251): a lost, repeated or reordered piece
            // shows; checking every byte would make a debug build crawl.
            if mismatch == nil, bytes.first != BulkServer.byte(at: received) {
                mismatch = received
            } else if mismatch == nil, bytes.last != BulkServer.byte(at: received + bytes.count - 1) {
                mismatch = received + bytes.count - 1
            }
            received += bytes.count
        }
        #expect(received == server.length)
        #expect(mismatch == nil, "byte \(mismatch ?? 0) differs from what the server sent")
        #expect(stream.bufferedBytesHighWater <= Self.limit, "held \(stream.bufferedBytesHighWater) bytes")
    }

    @Test func droppingAPausedStreamAbortsTheTransfer() async throws {
        let server = try BulkServer(length: 256 << 20)
        defer { server.close() }
        let client = HTTPClient(configuration: .init(streamBufferBytes: Self.limit))
        do {
            let stream = try client.stream(HTTPRequest(method: .get, url: server.url, timeout: .seconds(120)))
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            _ = try await iterator.next()
            try await Task.sleep(for: .milliseconds(200))  // long enough to fill the buffer and pause
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while !server.aborted && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.aborted, "the connection stayed open after the stream was dropped")
        #expect(!server.done)
    }

    @Test func cancellingTheConsumerEndsAPausedStream() async throws {
        let server = try BulkServer(length: 256 << 20)
        defer { server.close() }
        let client = HTTPClient(configuration: .init(streamBufferBytes: Self.limit))
        let stream = try client.stream(HTTPRequest(method: .get, url: server.url, timeout: .seconds(120)))
        let consumer = Task {
            var taken = 0
            for try await event in stream {
                if case .data(let bytes) = event { taken += bytes.count }
                try await Task.sleep(for: .milliseconds(50))  // throws once cancelled
            }
            return taken
        }
        try await Task.sleep(for: .milliseconds(300))
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(stream.bufferedBytesHighWater <= Self.limit)
    }
}
