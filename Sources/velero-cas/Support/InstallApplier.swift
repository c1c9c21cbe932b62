import ArgumentParser
import Foundation
import KubeClient
import VeleroAPI

/// Sends what `install` makes to the cluster, and takes it away again for `uninstall`.
struct InstallApplier {
    let client: KubeClient
    /// How long to wait for new CRDs to be served, a Deployment to appear, a namespace to go.
    var timeout: Duration = .seconds(120)
    /// Print nothing for each object applied (the demo prints one summary line).
    var quiet = false

    enum Failure: Error, CustomStringConvertible {
        case unknownKind(String)
        case timedOut(String)

        var description: String {
            switch self {
            case .unknownKind(let kind): "install does not know where kind '\(kind)' is served"
            case .timedOut(let what): "timed out waiting for \(what)"
            }
        }
    }

    /// Creates each object, or updates it when it exists (the store password's Secret is never replaced: the
    /// store cannot be read without the password it was made with). Custom resources wait until their
    /// definitions are served.
    func apply(_ objects: [ManifestValue]) async throws {
        for object in objects {
            let kind = object["kind"]?.string ?? ""
            guard let resource = InstallManifests.resource(of: object) else { throw Failure.unknownKind(kind) }
            let name = object["metadata"]?["name"]?.string ?? ""
            let namespace = object["metadata"]?["namespace"]?.string
            if resource.group == "velero.io" { try await waitUntilServed(resource, namespace: namespace) }
            let body = Array(try JSONEncoder().encode(object))
            let outcome: String
            do {
                try await client.create(resource, namespace: namespace, json: body)
                outcome = "created"
            } catch let error as KubeAPIError where error.isAlreadyExists {
                if kind == "Secret" && name == InstallManifests.passwordSecret {
                    outcome = "already exists, kept (the store's password)"
                } else {
                    try await replace(object, resource, name: name, namespace: namespace)
                    outcome = "already exists, updated"
                }
            }
            if !quiet { print("\(kind)/\(name): \(outcome)") }
        }
    }

    /// PUT with the resourceVersion just read; read again on 409.
    private func replace(_ object: ManifestValue, _ resource: APIResource, name: String, namespace: String?)
        async throws
    {
        for attempt in 0..<5 {
            let current = try await client.get(resource, namespace: namespace, name: name)
            var updated = object
            var metadata = updated["metadata"] ?? [:]
            metadata["resourceVersion"] = current.metadata.resourceVersion.map(ManifestValue.string)
            updated["metadata"] = metadata
            do {
                try await client.replace(
                    resource, namespace: namespace, name: name, json: Array(try JSONEncoder().encode(updated)))
                return
            } catch let error as KubeAPIError where error.isConflict && attempt < 4 {
                continue
            }
        }
    }

    private func waitUntilServed(_ resource: APIResource, namespace: String?) async throws {
        try await poll("the \(resource.qualifiedName) definition to be served") {
            do {
                _ = try await client.list(resource, namespace: namespace, limit: 1)
                return true
            } catch let error as KubeAPIError where error.isNotFound {
                return false
            }
        }
    }

    /// The Deployment exists; where a controller reports its status, it has an available replica.
    func waitForDeployment(namespace: String) async throws {
        let deployments = APIResource(
            group: "apps", version: "v1", name: "deployments", kind: "Deployment", namespaced: true)
        struct Status: Decodable {
            struct Inner: Decodable {
                var observedGeneration: Int?
                var availableReplicas: Int?
            }
            var status: Inner?
        }
        print("Waiting for the velero Deployment in namespace '\(namespace)'…")
        let started = ContinuousClock.now
        try await poll("the velero Deployment to be available") {
            let object: KubeObject
            do {
                object = try await client.get(deployments, namespace: namespace, name: InstallManifests.deployment)
            } catch let error as KubeAPIError where error.isNotFound {
                return false
            }
            if let status = try? JSONDecoder().decode(Status.self, from: Data(object.json)).status,
                status.observedGeneration != nil
            {
                return (status.availableReplicas ?? 0) >= 1
            }
            // No controller reports on it (kube-sim runs no pods): once one has had time to, it exists, and that
            // is all there is to wait for.
            return ContinuousClock.now - started > .seconds(2)
        }
        print("The velero Deployment is there.")
    }

    /// Deletes the namespace (and waits until it is gone), the ClusterRoleBinding, and the CRDs labelled
    /// component=velero, as Velero's uninstall does; what is missing is skipped.
    func uninstall(namespace: String) async throws {
        let namespaces = APIResource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
        if try await delete(namespaces, nil, namespace) {
            try await poll("namespace '\(namespace)' to be deleted") {
                do {
                    _ = try await client.get(namespaces, namespace: nil, name: namespace)
                    return false
                } catch let error as KubeAPIError where error.isNotFound {
                    return true
                }
            }
            print("Namespace/\(namespace): deleted")
        } else {
            print("Namespace/\(namespace): not found, skipped")
        }
        let bindings = APIResource(
            group: "rbac.authorization.k8s.io", version: "v1", name: "clusterrolebindings", kind: "ClusterRoleBinding",
            namespaced: false)
        let binding = InstallManifests.clusterRoleBinding(namespace: namespace)
        print(
            "ClusterRoleBinding/\(binding): \(try await delete(bindings, nil, binding) ? "deleted" : "not found, skipped")"
        )
        let definitions = APIResource(
            group: "apiextensions.k8s.io", version: "v1", name: "customresourcedefinitions",
            kind: "CustomResourceDefinition", namespaced: false)
        var names: [String] = []
        try await client.listAll(definitions, labelSelector: "component=velero") { names += $0.map(\.name) }
        for name in names.sorted() where name.hasSuffix(".velero.io") {
            print("CustomResourceDefinition/\(name): \(try await delete(definitions, nil, name) ? "deleted" : "gone")")
        }
        if names.isEmpty { print("No velero.io CustomResourceDefinitions labelled component=velero, skipped") }
    }

    /// True when it was there.
    private func delete(_ resource: APIResource, _ namespace: String?, _ name: String) async throws -> Bool {
        do {
            try await client.delete(resource, namespace: namespace, name: name)
            return true
        } catch let error as KubeAPIError where error.isNotFound {
            return false
        }
    }

    private func poll(_ what: String, _ done: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure.timedOut(what)
    }
}
