import Foundation

/// Why a patch could not be applied.
public enum PatchError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A `test` operation did not hold.
    case testFailed(path: String)
    /// A path names nothing.
    case missing(path: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .testFailed(let path): "test failed at \(path)"
        case .missing(let path): "path \(path) does not exist"
        case .invalid(let reason): reason
        }
    }
}

/// RFC 6902 JSON patches on JSONSerialization values.
public enum JSONPatch {
    public struct Operation: Sendable, Equatable {
        static let names: Set<String> = ["add", "remove", "replace", "move", "copy", "test"]

        public var op: String
        public var path: String
        public var from: String?
        public var value: JSONText

        public init(op: String, path: String, from: String? = nil, value: JSONText = JSONText(json: "null")) {
            self.op = op
            self.path = path
            self.from = from
            self.value = value
        }
    }

    /// Applies the operations in order, all or nothing.
    public static func apply(_ operations: [Operation], to document: [String: Any]) throws(PatchError) -> [String: Any]
    {
        var result: Any = document
        for operation in operations {
            let pointer = try tokens(operation.path)
            let value: Any
            do { value = try operation.value.value() } catch {
                throw .invalid("the value for \(operation.path) is not JSON")
            }
            switch operation.op {
            case "add": result = try set(result, pointer[...], value, path: operation.path, insert: true)
            case "replace":
                _ = try get(result, pointer[...], path: operation.path)
                result = try set(result, pointer[...], value, path: operation.path, insert: false)
            case "remove": result = try remove(result, pointer[...], path: operation.path)
            case "test":
                let current = try get(result, pointer[...], path: operation.path)
                guard NSArray(array: [current]).isEqual(to: [value]) else { throw .testFailed(path: operation.path) }
            case "move", "copy":
                let fromPath = operation.from ?? ""
                let from = try tokens(fromPath)
                let moved = try get(result, from[...], path: fromPath)
                if operation.op == "move" { result = try remove(result, from[...], path: fromPath) }
                result = try set(result, pointer[...], moved, path: operation.path, insert: true)
            default: throw .invalid("unknown JSON patch operation '\(operation.op)'")
            }
        }
        guard let object = result as? [String: Any] else { throw .invalid("the patch replaced the whole object") }
        return object
    }

    static func tokens(_ path: String) throws(PatchError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .invalid("'\(path)' is not a JSON pointer (it must start with '/')") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0.replacing("~1", with: "/").replacing("~0", with: "~"))
        }
    }

    static func get(_ value: Any, _ pointer: ArraySlice<String>, path: String) throws(PatchError) -> Any {
        guard let first = pointer.first else { return value }
        if let object = value as? [String: Any], let child = object[first] {
            return try get(child, pointer.dropFirst(), path: path)
        }
        if let array = value as? [Any], let index = Int(first), array.indices.contains(index) {
            return try get(array[index], pointer.dropFirst(), path: path)
        }
        throw .missing(path: path)
    }

    static func set(_ value: Any, _ pointer: ArraySlice<String>, _ newValue: Any, path: String, insert: Bool)
        throws(PatchError) -> Any
    {
        guard let first = pointer.first else { return newValue }
        let last = pointer.count == 1
        if var object = value as? [String: Any] {
            if last {
                object[first] = newValue
            } else {
                guard let child = object[first] else { throw .missing(path: path) }
                object[first] = try set(child, pointer.dropFirst(), newValue, path: path, insert: insert)
            }
            return object
        }
        guard var array = value as? [Any] else { throw .missing(path: path) }
        let index = first == "-" ? array.count : Int(first) ?? -1
        guard index >= 0 && index <= array.count else { throw .missing(path: path) }
        if last && insert {
            array.insert(newValue, at: index)
        } else {
            guard index < array.count else { throw .missing(path: path) }
            array[index] =
                last ? newValue : try set(array[index], pointer.dropFirst(), newValue, path: path, insert: insert)
        }
        return array
    }

    static func remove(_ value: Any, _ pointer: ArraySlice<String>, path: String) throws(PatchError) -> Any {
        guard let first = pointer.first else { throw .invalid("cannot remove the whole object") }
        if var object = value as? [String: Any], let child = object[first] {
            object[first] = pointer.count == 1 ? nil : try remove(child, pointer.dropFirst(), path: path)
            return object
        }
        if var array = value as? [Any], let index = Int(first), array.indices.contains(index) {
            if pointer.count == 1 {
                array.remove(at: index)
            } else {
                array[index] = try remove(array[index], pointer.dropFirst(), path: path)
            }
            return array
        }
        throw .missing(path: path)
    }
}

/// Kubernetes strategic merge patches for what users write: maps merge recursively, `null` deletes a key, lists of
/// objects with a known patch merge key (containers, volumes, env, ports, volumeMounts, …) merge element by element,
/// `$patch: replace` replaces a map or list, `$patch: delete` deletes a map or a list element, and other lists are
/// replaced. `$setElementOrder/…` and `$retainKeys` directives are ignored.
public enum StrategicMergePatch {
    /// Patch merge keys of the built-in types, by field name.
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
        "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
        "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "resourceClaims": "name",
        "schedulingGates": "name", "secrets": "name", "topologySpreadConstraints": "topologyKey",
    ]
    /// Lists of strings merged as sets.
    static let mergedPrimitiveLists: Set<String> = ["finalizers"]

    public static func apply(_ patch: Any, to object: [String: Any]) throws(PatchError) -> [String: Any] {
        guard let patchObject = patch as? [String: Any] else { throw .invalid("a strategic merge patch must be a map") }
        return try merge(object, patchObject)
    }

    static func merge(_ original: [String: Any], _ patch: [String: Any]) throws(PatchError) -> [String: Any] {
        switch patch["$patch"] as? String {
        case "replace"?:
            var replacement = patch
            replacement["$patch"] = nil
            return strip(replacement) as? [String: Any] ?? [:]
        case let directive? where directive != "merge":
            throw .invalid("unsupported $patch directive '\(directive)' in a map")
        default: break
        }
        var result = original
        for (key, value) in patch where !key.hasPrefix("$") {
            if value is NSNull {
                result[key] = nil
            } else if let patchMap = value as? [String: Any] {
                if patchMap["$patch"] as? String == "delete" {
                    result[key] = nil
                } else {
                    result[key] = try merge(result[key] as? [String: Any] ?? [:], patchMap)
                }
            } else if let patchList = value as? [Any] {
                result[key] = try mergeList(key, result[key] as? [Any], patchList)
            } else {
                result[key] = value
            }
        }
        return result
    }

    static func mergeList(_ field: String, _ original: [Any]?, _ patch: [Any]) throws(PatchError) -> [Any] {
        if patch.contains(where: { ($0 as? [String: Any])?["$patch"] as? String == "replace" }) {
            return patch.filter { ($0 as? [String: Any])?["$patch"] as? String != "replace" }.map(strip)
        }
        if mergedPrimitiveLists.contains(field) {
            var result = original ?? []
            for element in patch where !result.contains(where: { NSArray(array: [$0]).isEqual(to: [element]) }) {
                result.append(element)
            }
            return result
        }
        let elements = patch.compactMap { $0 as? [String: Any] }
        guard elements.count == patch.count, let key = mergeKey(field, elements) else { return patch.map(strip) }
        var result = original ?? []
        for element in elements {
            guard let identity = element[key] else {
                throw .invalid("an element of \(field) lacks its merge key '\(key)'")
            }
            let index = result.firstIndex {
                guard let existing = ($0 as? [String: Any])?[key] else { return false }
                return NSArray(array: [existing]).isEqual(to: [identity])
            }
            if element["$patch"] as? String == "delete" {
                if let index { result.remove(at: index) }
            } else if let index {
                result[index] = try merge(result[index] as? [String: Any] ?? [:], element)
            } else {
                result.append(try merge([:], element))
            }
        }
        return result
    }

    /// Container ports merge by containerPort, Service ports by port.
    static func mergeKey(_ field: String, _ elements: [[String: Any]]) -> String? {
        if field == "ports" { return elements.allSatisfy { $0["containerPort"] != nil } ? "containerPort" : "port" }
        return mergeKeys[field]
    }

    /// A value with its directives removed.
    static func strip(_ value: Any) -> Any {
        if let map = value as? [String: Any] {
            return map.filter { !$0.key.hasPrefix("$") }.mapValues(strip)
        }
        if let list = value as? [Any] { return list.map(strip) }
        return value
    }
}
