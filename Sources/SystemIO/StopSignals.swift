import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM delivered to a handler on a thread of its own, so that a process whose thread pools are all
/// busy (hashing, compressing) still sees a stop at once. The C handler writes the signal's number to a pipe; the
/// thread reads it and calls `handler` (which must not block for long).
public enum StopSignals {
    public static func install(_ handler: @escaping @Sendable (Int32) -> Void) throws(SystemError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw SystemError("create the signal pipe for", path: "SIGINT/SIGTERM") }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 {
                    handler(Int32(byte))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        thread.name = "velero-cas stop signals"
        thread.start()
        guard csystem_install_stop_signals(writeEnd) == 0 else {
            throw SystemError("install the handler for", path: "SIGINT/SIGTERM")
        }
    }
}
