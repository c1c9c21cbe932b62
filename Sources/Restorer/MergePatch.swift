import Foundation

/// RFC 7386 merge patches computed from two objects, so `update` makes an existing object equal to the backup
/// (a patch of the backup alone would leave keys the backup does not have).
enum MergePatch {
    /// The patch that turns `from` into `to`: changed and added keys with their new values, removed keys as null,
    /// nested objects diffed recursively, arrays replaced whole.
    static func diff(from: [String: Any], to: [String: Any]) -> [String: Any] {
        var patch: [String: Any] = [:]
        for (key, value) in to {
            if let old = from[key] {
                if let oldObject = old as? [String: Any], let newObject = value as? [String: Any] {
                    let nested = diff(from: oldObject, to: newObject)
                    if !nested.isEmpty { patch[key] = nested }
                } else if !NSArray(array: [old]).isEqual(to: [value]) {
                    patch[key] = value
                }
            } else {
                patch[key] = value
            }
        }
        for key in from.keys where to[key] == nil { patch[key] = NSNull() }
        return patch
    }

    static func diff(from: [UInt8], to: [UInt8]) throws -> [UInt8] {
        let old = try JSONSerialization.jsonObject(with: Data(from)) as? [String: Any] ?? [:]
        let new = try JSONSerialization.jsonObject(with: Data(to)) as? [String: Any] ?? [:]
        return Array(try JSONSerialization.data(withJSONObject: diff(from: old, to: new), options: [.sortedKeys]))
    }
}

extension MergePatch {
    /// Applies an RFC 7386 merge patch: maps merge recursively, `null` removes a key, anything else replaces.
    static func apply(_ patch: Any, to target: Any?) -> Any {
        guard let patchObject = patch as? [String: Any] else { return patch }
        var result = target as? [String: Any] ?? [:]
        for (key, value) in patchObject {
            result[key] = value is NSNull ? nil : apply(value, to: result[key])
        }
        return result
    }
}
