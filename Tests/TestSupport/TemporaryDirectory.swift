import Foundation
import SystemIO

/// A fresh directory under /tmp, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "test") throws {
        path = "/tmp/velero-cas-tests/\(label)-\(Path.randomSuffix())"
        try FileSystem.makeDirectories(path)
    }

    public func remove() {
        try? FileSystem.removeTree(path)
    }

    public func sub(_ name: String) -> String { path + "/" + name }
}
