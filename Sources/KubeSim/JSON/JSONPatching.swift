extension JSONValue {
    /// RFC 7386 JSON merge patch: objects merge recursively, `null` removes a key, anything else replaces.
    public func mergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var target = objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                target[key] = nil
            } else {
                target[key] = (target[key] ?? .null).mergePatched(with: value)
            }
        }
        return .object(target)
    }

    /// A strategic merge patch, as far as `kubectl apply` needs it.
    ///
    /// Like a merge patch, plus: lists of objects that all carry a merge key (`name`, `mountPath`, `containerPort`,
    /// `port`, `type`, `ip`) merge element by element instead of being replaced; `$patch: replace|delete`,
    /// `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` directives are honoured and never
    /// stored. Without the server's schema the merge key is guessed from the elements, which is right for the
    /// built-in lists kubectl patches (containers, env, volumes, volumeMounts, ports, conditions).
    public func strategicMergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(var patchMembers) = patch else { return patch }
        if case .string(let directive)? = patchMembers["$patch"] {
            patchMembers["$patch"] = nil
            if directive == "replace" { return JSONValue.object(patchMembers).withoutDirectives() }
        }
        var target = objectValue ?? [:]
        if case .array(let retained)? = patchMembers["$retainKeys"] {
            let keep = Set(retained.compactMap(\.stringValue))
            target = target.filter { keep.contains($0.key) }
        }
        for (key, value) in patchMembers where key.hasPrefix("$deleteFromPrimitiveList/") {
            let list = String(key.dropFirst("$deleteFromPrimitiveList/".count))
            if case .array(let existing)? = target[list], case .array(let removed) = value {
                target[list] = .array(existing.filter { !removed.contains($0) })
            }
        }
        for (key, value) in patchMembers where !key.hasPrefix("$") {
            switch value {
            case .null:
                target[key] = nil
            case .array(let patchElements):
                let order = patchMembers["$setElementOrder/\(key)"]?.arrayValue
                if case .array(let existing)? = target[key],
                    let merged = Self.mergeLists(existing, patchElements, order: order)
                {
                    target[key] = .array(merged)
                } else {
                    target[key] = JSONValue.array(patchElements.filter { !$0.isDeleteDirective }).withoutDirectives()
                }
            case .object where value.isDeleteDirective:
                target[key] = nil
            case .object:
                target[key] = (target[key] ?? .null).strategicMergePatched(with: value)
            default:
                target[key] = value
            }
        }
        for (key, value) in patchMembers where key.hasPrefix("$setElementOrder/") {
            let list = String(key.dropFirst("$setElementOrder/".count))
            if patchMembers[list] == nil, case .array(let existing)? = target[list], case .array(let order) = value,
                let merged = Self.mergeLists(existing, [], order: order)
            {
                target[list] = .array(merged)
            }
        }
        return .object(target)
    }

    private static let mergeKeys = ["name", "mountPath", "containerPort", "port", "type", "ip", "devicePath"]

    private var isDeleteDirective: Bool { self["$patch"]?.stringValue == "delete" }

    private static func mergeLists(_ existing: [JSONValue], _ patch: [JSONValue], order: [JSONValue]?) -> [JSONValue]? {
        let sample = patch.first ?? order?.first ?? existing.first
        guard let sample, case .object(let sampleMembers) = sample,
            let mergeKey = mergeKeys.first(where: { sampleMembers[$0] != nil })
        else { return nil }
        let all = existing + patch + (order ?? [])
        guard all.allSatisfy({ $0[mergeKey] != nil }) else { return nil }
        var result = existing
        for element in patch {
            let keyValue = element[mergeKey]
            let position = result.firstIndex { $0[mergeKey] == keyValue }
            if element.isDeleteDirective {
                if let position { result.remove(at: position) }
            } else if let position {
                result[position] = result[position].strategicMergePatched(with: element)
            } else {
                result.append(JSONValue.null.strategicMergePatched(with: element))
            }
        }
        guard let order else { return result }
        let wanted = order.compactMap { $0[mergeKey] }
        var ordered: [JSONValue] = []
        for keyValue in wanted {
            if let element = result.first(where: { $0[mergeKey] == keyValue }) { ordered.append(element) }
        }
        ordered += result.filter { element in !wanted.contains { $0 == element[mergeKey] } }
        return ordered
    }

    /// The value with every `$`-prefixed directive key removed, recursively.
    func withoutDirectives() -> JSONValue {
        switch self {
        case .object(let members):
            var cleaned: [String: JSONValue] = [:]
            for (key, value) in members where !key.hasPrefix("$") { cleaned[key] = value.withoutDirectives() }
            return .object(cleaned)
        case .array(let elements): return .array(elements.map { $0.withoutDirectives() })
        default: return self
        }
    }
}
