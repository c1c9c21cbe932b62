import Foundation

/// The executables `swift build` put beside the test bundle, for tests that run them as users do.
public enum BuiltProducts {
    /// The path of the built executable `name` (e.g. "velero-cas").
    public static func path(_ name: String) -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
