import Foundation
import HTTPTransport
import KubeClient
import VeleroAPI

/// What a GET of a Velero object found.
enum Fetched<K: VeleroKind> {
    case missing
    /// The object exists but does not decode as the kind (a wrong type in its spec): it is kept as the server sent
    /// it so its status can still be written.
    case malformed(KubeObject, reason: String)
    case object(K)
}

/// Reads Velero objects of one kind in the server's namespace and writes their status through the status
/// subresource, with optimistic concurrency: each write names the resourceVersion it was computed from, and a 409
/// Conflict means read again, recompute, write again.
struct ObjectAccess<K: VeleroKind>: Sendable {
    let client: KubeClient
    let namespace: String

    var resource: APIResource { K.resource }

    func fetch(_ name: String) async throws -> Fetched<K> {
        let object: KubeObject
        do {
            object = try await client.get(resource, namespace: namespace, name: name)
        } catch let error as KubeAPIError where error.isNotFound {
            return .missing
        }
        do {
            return .object(try K.decode(object.json))
        } catch {
            return .malformed(object, reason: Self.describe(error))
        }
    }

    func get(_ name: String) async throws -> K? {
        switch try await fetch(name) {
        case .object(let object): return object
        case .missing, .malformed: return nil
        }
    }

    func list(labelSelector: String? = nil) async throws -> [K] {
        var result: [K] = []
        try await client.listAll(resource, namespace: namespace, labelSelector: labelSelector) { page in
            for object in page { if let decoded = try? K.decode(object.json) { result.append(decoded) } }
        }
        return result
    }

    /// Applies `change` to the object's status and writes it; `change` returns false to write nothing. Retried on
    /// 409 against a fresh read. Returns the object as written, or nil when it is gone (or no longer decodes).
    @discardableResult
    func updateStatus(_ name: String, _ change: (inout K) throws -> Bool) async throws -> K? {
        for attempt in 0..<16 {
            guard var object = try await get(name) else { return nil }
            guard try change(&object) else { return object }
            do {
                let status = try Velero.encoder().encode(object.status)
                return try await patchStatus(
                    name, resourceVersion: object.metadata.resourceVersion, status: Array(status), as: K.self)
            } catch let error as KubeAPIError where error.isConflict && attempt < 15 {
                try await Task.sleep(for: .milliseconds(10 * (attempt + 1)))
                continue
            }
        }
        return nil
    }

    /// Writes a status given as JSON, e.g. on an object that does not decode; guarded by `resourceVersion`.
    @discardableResult
    func patchStatus<T: VeleroKind>(_ name: String, resourceVersion: String?, status: [UInt8], as: T.Type)
        async throws -> T?
    {
        var body = Array(#"{"metadata":{"resourceVersion":"#.utf8)
        body += Array(try JSONEncoder().encode(resourceVersion ?? ""))
        body += Array(#"},"status":"#.utf8) + status + [UInt8(ascii: "}")]
        let response = try await client.send(
            .patch, resource.path(namespace: namespace, name: name) + "/status", body: body,
            contentType: "application/merge-patch+json")
        return try? T.decode(response.body)
    }

    /// A decoding error as a person reads it: the field path and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type), \(context.debugDescription)"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required field is missing"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
