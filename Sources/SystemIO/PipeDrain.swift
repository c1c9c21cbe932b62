#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads several pipes to their ends at the same time, so a child that fills one pipe while the parent waits on
/// another cannot deadlock, and gives up at a deadline, so a child that never closes its pipes cannot hold the
/// reader forever. Blocking: call it through `BlockingPool`.
public enum PipeDrain {
    /// What was read from each descriptor, in order, and whether the deadline came first.
    public struct Result: Sendable {
        public var outputs: [[UInt8]]
        public var timedOut: Bool
    }

    /// - Parameter limit: bytes kept per descriptor; more is read and dropped, so a flood cannot exhaust memory.
    public static func readAll(_ descriptors: [Int32], until deadline: ContinuousClock.Instant, limit: Int = 16 << 20)
        throws(SystemError) -> Result
    {
        var outputs = [[UInt8]](repeating: [], count: descriptors.count)
        var open = Set(descriptors.indices)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !open.isEmpty {
            let remaining = deadline - .now
            guard remaining > .zero else { return Result(outputs: outputs, timedOut: true) }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + 1)
            var polled = open.sorted().map { pollfd(fd: descriptors[$0], events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), min(milliseconds, 1000))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("poll", path: "pipe")
            }
            for (entry, index) in zip(polled, open.sorted()) where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw SystemError("read", path: "pipe")
                }
                if count == 0 {
                    open.remove(index)
                } else if outputs[index].count < limit {
                    outputs[index] += buffer.prefix(min(count, limit - outputs[index].count))
                }
            }
        }
        return Result(outputs: outputs, timedOut: false)
    }
}
