import Foundation
import Synchronization

/// This machine's name as `ProcessInfo.hostName` gives it (recorded in locks and snapshots, matched by incremental
/// backups). Foundation asks the resolver for the canonical name (getaddrinfo), which can block for seconds on a
/// slow DNS server: it is looked up once, on the blocking pool, and kept.
public final class HostName: Sendable {
    /// The process's cache.
    static let shared = HostName { ProcessInfo.processInfo.hostName }

    private let cached = Mutex<String?>(nil)
    private let lookUp: @Sendable () -> String

    init(lookUp: @escaping @Sendable () -> String) {
        self.lookUp = lookUp
    }

    /// The host name, looked up on the blocking pool the first time.
    public static func current() async -> String { await shared.name() }

    func name() async -> String {
        if let name = cached.withLock({ $0 }) { return name }
        let name = (try? await BlockingPool.shared.run(lookUp)) ?? "localhost"
        return cached.withLock { cached in
            if cached == nil { cached = name }
            return cached!
        }
    }
}
