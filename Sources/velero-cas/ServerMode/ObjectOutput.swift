import Foundation
import KubeClient
import VeleroAPI

/// `-o json|yaml` of Velero objects as the API server holds them (Velero's field names, RFC 3339 times): one
/// object when one was named, else a `List`, as kubectl and Velero print them.
enum ObjectOutput {
    static func print<K: VeleroKind>(_ objects: [K], format: OutputFormat, single: Bool) throws {
        try print(json: objects.map { try $0.encoded() }, format: format, single: single)
    }

    /// Objects given as the JSON sent to or read from the API server.
    static func print(json objects: [[UInt8]], format: OutputFormat, single: Bool) throws {
        let items = try objects.map { try ManifestValue.parse($0) }
        let value: ManifestValue =
            single && items.count == 1 ? items[0] : ["apiVersion": "v1", "kind": "List", "items": .array(items)]
        guard format != .table else { return }
        Swift.print(try value.rendered(yaml: format == .yaml), terminator: "")
    }

    /// `describe` through the server: `-o` prints the objects (one named: the object), else each for people,
    /// separated by blank lines.
    static func describe<K: VeleroKind>(
        _ objects: [K], selection: RecordSelection, format: OutputFormat, each: (K) async -> Void
    ) async throws {
        guard format == .table else { return try print(objects, format: format, single: selection.names.count == 1) }
        for (index, object) in objects.enumerated() {
            if index > 0 { Swift.print("") }
            await each(object)
        }
    }

    /// A time the API server wrote, as the local tables print times; "-" when absent.
    static func date(_ date: Date?) -> String { date.map(Format.date) ?? "-" }

    /// metadata.creationTimestamp (kept as text) as the tables print times.
    static func created(_ metadata: ObjectMeta) -> String {
        date(metadata.creationTimestamp.flatMap(KubeTime.parse))
    }
}
