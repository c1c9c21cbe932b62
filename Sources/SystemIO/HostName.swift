import Foundation
import Synchronization

/// This machine's name as `ProcessInfo.hostName` gives it (recorded in locks and snapshots, matched by incremental
/// backups). Foundation asks the resolver for the canonical name (getaddrinfo), which can block for seconds on a
/// slow DNS server: it is looked up once, on the blocking pool, and kept.
public enum HostName {
    private static let cached = Mutex<String?>(nil)

    public static func current() async -> String {
        await current(lookUp: { ProcessInfo.processInfo.hostName })
    }

    static func current(lookUp: @escaping @Sendable () -> String) async -> String {
        if let name = cached.withLock({ $0 }) { return name }
        let name = (try? await BlockingPool.shared.run(lookUp)) ?? "localhost"
        return cached.withLock { cached in
            if cached == nil { cached = name }
            return cached!
        }
    }

    static func forget() { cached.withLock { $0 = nil } }
}
