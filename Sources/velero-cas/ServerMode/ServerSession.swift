import ArgumentParser
import Foundation
import KubeClient
import VeleroAPI

/// A velero-cas server found in the cluster: verbs create, read and delete its Velero objects in `namespace`.
struct ServerSession: Sendable {
    let client: KubeClient
    let namespace: String

    /// The server in `namespace`, or nil when there is none: its presence Lease is missing or stale, or the
    /// velero.io API is not served. Two GETs; a stale Lease is reported on standard error, so that running in
    /// process is never a surprise. A user whose RBAC hides Leases (403) works through the server when the
    /// velero.io API is served.
    static func detect(client: KubeClient, namespace: String) async throws -> ServerSession? {
        do {
            let lease = try await client.get(
                ServerPresence.resource, namespace: namespace, name: ServerPresence.leaseName)
            guard ServerPresence.isFresh(lease.json, now: Date()) else {
                FileHandle.standardError.write(
                    Data(
                        "note: the velero-cas server of namespace '\(namespace)' has not renewed its Lease for over \(ServerPresence.leaseDurationSeconds)s; running in this process\n"
                            .utf8))
                return nil
            }
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        } catch let error as KubeAPIError where error.code == 403 {
        } catch {
            // The cluster cannot be reached or does not serve Leases: no server to talk to.
            return nil
        }
        do {
            _ = try await client.send(.get, "/apis/\(Velero.apiVersion)")
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
        return ServerSession(client: client, namespace: namespace)
    }

    /// Creates the object; a name already taken is refused naming it.
    @discardableResult
    func create<K: VeleroKind>(_ object: K) async throws -> K {
        try await create(json: try object.encoded(), name: object.name, as: K.self)
    }

    /// Creates an object given as JSON (`name` is for the message when it exists already).
    func create<K: VeleroKind>(json: [UInt8], name: String, as: K.Type) async throws -> K {
        do {
            return try K.decode(try await client.create(K.resource, namespace: namespace, json: json).json)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            throw ValidationError("\(K.kind.lowercased()) '\(name)' already exists in namespace '\(namespace)'")
        }
    }

    /// The named object, or an error naming it and the namespace.
    func get<K: VeleroKind>(_ name: String, as: K.Type = K.self) async throws -> K {
        do {
            return try K.decode(try await client.get(K.resource, namespace: namespace, name: name).json)
        } catch let error as KubeAPIError where error.isNotFound {
            throw ValidationError("\(K.kind.lowercased()) '\(name)' not found in namespace '\(namespace)'")
        }
    }

    /// Every object of the kind (matching `labelSelector`), by name. Objects that do not decode are skipped with
    /// a note: one malformed object never hides the rest.
    func list<K: VeleroKind>(_ kind: K.Type, labelSelector: String? = nil) async throws -> [K] {
        var result: [K] = []
        try await client.listAll(K.resource, namespace: namespace, labelSelector: labelSelector) { page in
            for object in page {
                do { result.append(try K.decode(object.json)) } catch {
                    FileHandle.standardError.write(
                        Data("note: \(K.kind) \(object.name) does not decode and is left out: \(error)\n".utf8))
                }
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The objects a selection names (each must exist), or those matching its selector, or all.
    func select<K: VeleroKind>(_ selection: RecordSelection, as kind: K.Type) async throws -> [K] {
        guard selection.selector == nil, !selection.names.isEmpty else {
            return try await list(kind, labelSelector: selection.selector)
        }
        var result: [K] = []
        for name in selection.names { result.append(try await get(name, as: kind)) }
        return result
    }

    func delete<K: VeleroKind>(_ kind: K.Type, _ name: String) async throws {
        do {
            try await client.delete(K.resource, namespace: namespace, name: name)
        } catch let error as KubeAPIError where error.isNotFound {}
    }
}
