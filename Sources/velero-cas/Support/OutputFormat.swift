import ArgumentParser
import ChunkStore
import Foundation
import Yams

/// `-o table|json|yaml`: tables for people, JSON or YAML for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml

    /// Prints `value` as JSON or YAML, or calls `table` to print it for people.
    func print<T: Encodable>(_ value: T, table: () -> Void) throws {
        switch self {
        case .table: table()
        case .json: Swift.print(String(decoding: try StoreJSON.encode(value), as: UTF8.self))
        case .yaml:
            let encoder = YAMLEncoder()
            Swift.print(try encoder.encode(value), terminator: "")
        }
    }

    /// `describe`: JSON or YAML of one record when one was named (`single`), else of the list; for people, each
    /// record in turn, separated by blank lines.
    func describe<T: Encodable>(_ records: [T], single: Bool, each: (T) async throws -> Void) async throws {
        guard self == .table else {
            if single, records.count == 1 { return try print(records[0]) {} }
            return try print(records) {}
        }
        for (index, record) in records.enumerated() {
            if index > 0 { Swift.print("") }
            try await each(record)
        }
    }
}

/// Left-aligned columns separated by three spaces, like kubectl's tables.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    func render() -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "   ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

enum Format {
    /// 1536 → "1.5 KiB".
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.2f %@", value, units[unit])
    }

    /// Decimal megabytes per second, as storage throughput is usually quoted.
    static func rate(_ bytes: Int64, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return String(format: "%.1f MB/s", Double(bytes) / seconds / 1e6)
    }

    static func ratio(_ value: Double) -> String { String(format: "%.2fx", value) }

    static func seconds(_ value: Double) -> String { String(format: "%.2fs", value) }

    /// `a=1,b=2`, sorted; `<none>` when empty.
    static func labels(_ labels: [String: String]) -> String {
        labels.isEmpty
            ? "<none>" : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
