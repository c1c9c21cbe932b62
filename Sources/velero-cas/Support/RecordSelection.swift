import ArgumentParser
import KubeClient

/// Which backups or restores a command acts on, as Velero's commands take them: names, `-l/--selector`, or `--all`.
struct RecordSelection: ParsableArguments {
    @Argument(help: "Names; all when neither names nor a selector is given.") var names: [String] = []
    @Option(
        name: [.customShort("l"), .customLong("selector")], help: "Only those whose labels match this label selector.")
    var selector: String?

    func validate() throws {
        if let selector {
            do { _ = try LabelSelector(parsing: selector) } catch {
                throw ValidationError("-l/--selector '\(selector)' is not a label selector: \(error)")
            }
            guard names.isEmpty else { throw ValidationError("give names or -l/--selector, not both") }
        }
    }

    /// For deletions (and pausing): exactly one of names, a selector or `--all` (`all`), so nothing is changed by
    /// omission.
    func validateDeletion(all: Bool, kind: String) throws {
        guard [!names.isEmpty, selector != nil, all].count(where: { $0 }) == 1 else {
            throw ValidationError("give \(kind) names, -l/--selector or --all (exactly one)")
        }
    }

    /// The names a deletion goes ahead with: none (after saying so) when nothing matches; refused without `confirm`.
    func namesToDelete(_ names: [String], kind: String, confirm: Bool) throws -> [String] {
        guard !names.isEmpty else {
            print("no \(kind)s match")
            return []
        }
        guard confirm else {
            throw ValidationError(
                "deleting \(kind)\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")) needs --confirm")
        }
        return names
    }

    /// The records named (each must exist) or matching the selector; all when neither is given.
    func select<Record>(
        _ records: [Record], kind: String, location: String, name: (Record) -> String,
        labels: (Record) -> [String: String]
    ) throws -> [Record] {
        if let selector {
            let parsed = try LabelSelector(parsing: selector)
            return records.filter { parsed.matches(labels($0)) }
        }
        guard !names.isEmpty else { return records }
        for wanted in names where !records.contains(where: { name($0) == wanted }) {
            throw ValidationError("\(kind) '\(wanted)' not found in \(location)")
        }
        return records.filter { names.contains(name($0)) }
    }
}
