import Foundation

/// `pods/exec` as the API server checks it, before a connection is upgraded: who may, which pod, which container,
/// which command, and where kube-sim runs it.
///
/// kube-sim has no kubelet and no containers: the command runs as a local process (see `ExecHandler`) in the pod's
/// directory under the kubelet root configured for the pod's node (`KubeSimConfiguration.kubeletRoots`), so the pod's
/// volumes are at `volumes/<plugin>/<volume>` relative to its working directory, as a node agent sees them.
struct ExecPlan: Sendable {
    var namespace: String
    var pod: String
    var container: String
    var command: [String]
    /// `<kubelet root>/pods/<pod uid>`, created if missing (the kubelet would have).
    var podDirectory: String
    /// The WebSocket subprotocol chosen from the client's offer.
    var subprotocol: String

    /// What the process gets besides kube-sim's own PATH and HOME.
    var environment: [String: String] {
        [
            "KUBE_SIM_POD_DIR": podDirectory, "KUBE_SIM_NAMESPACE": namespace, "KUBE_SIM_POD": pod,
            "KUBE_SIM_CONTAINER": container,
        ]
    }
}

extension SimulatorCore {
    /// The subprotocols served, preferred first: v5 adds the client's close signal (channel 255) to v4.
    static let execSubprotocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    /// Checks an exec request as the API server does and says how to run it; the errors are the real server's
    /// (404 for a missing pod, 400 for an unknown container or no command, 403 for a read-only token).
    func execPlan(_ request: SimRequest) throws(APIError) -> ExecPlan {
        guard case .resource(let target) = Route.parse(request.path), target.group.isEmpty,
            target.resource == "pods", target.subresource == "exec", let namespace = target.namespace,
            let name = target.name
        else { throw APIError.unknownPath }
        guard request.method == "GET" || request.method == "POST" else { throw APIError.methodNotAllowed() }
        let user = try authenticate(request)
        guard let type = store.resolve(group: "", version: target.version, resource: "pods") else {
            throw APIError.unknownPath
        }
        if user.role == .readOnly {
            throw APIError.forbidden(
                user: user.user, verb: "create", type: type, resourceName: "pods/exec", name: name,
                namespace: namespace)
        }
        guard let bytes = objectBytes(at: "/api/v1/namespaces/\(namespace)/pods/\(name)"),
            let pod = try? JSONValue.parse(bytes)
        else { throw APIError.notFound(type, name) }
        let containers = (pod["spec"]?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let wanted = Self.queryValues(request.rawQuery, "container").first, !wanted.isEmpty {
            let initContainers = (pod["spec"]?["initContainers"]?.arrayValue ?? []).compactMap {
                $0["name"]?.stringValue
            }
            guard containers.contains(wanted) || initContainers.contains(wanted) else {
                throw APIError.badRequest("container \(wanted) is not valid for pod \(name)")
            }
            container = wanted
        } else if containers.count == 1 {
            container = containers[0]
        } else {
            throw APIError.badRequest(
                "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
            )
        }
        let command = Self.queryValues(request.rawQuery, "command")
        guard !command.isEmpty else { throw APIError.badRequest("you must specify at least 1 command") }
        guard let node = pod["spec"]?["nodeName"]?.stringValue, !node.isEmpty else {
            throw APIError.badRequest("pod \(name) does not have a host assigned")
        }
        if let phase = pod["status"]?["phase"]?.stringValue, phase == "Succeeded" || phase == "Failed" {
            throw APIError.badRequest("cannot exec into a container in a completed pod; current phase is \(phase)")
        }
        guard let roots = configuration.kubeletRoots else {
            throw APIError.badRequest("exec is off in kube-sim: start it with --kubelet-root NODE=DIR")
        }
        guard let root = roots[node] else {
            throw APIError.badRequest("kube-sim has no kubelet root for node \(node) (--kubelet-root \(node)=DIR)")
        }
        let offered = (request.headers["sec-websocket-protocol"] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let subprotocol = Self.execSubprotocols.first(where: offered.contains) ?? ""
        let uid = pod["metadata"]?["uid"]?.stringValue ?? name
        return ExecPlan(
            namespace: namespace, pod: name, container: container, command: command,
            podDirectory: root + "/pods/" + uid, subprotocol: subprotocol)
    }

    /// Every value of a repeated query parameter (`command=sh&command=-c`), in order.
    static func queryValues(_ rawQuery: String, _ name: String) -> [String] {
        rawQuery.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard QueryString.percentDecode(String(parts[0]), plusIsSpace: true) == name else { return nil }
            return parts.count > 1 ? QueryString.percentDecode(String(parts[1]), plusIsSpace: true) : ""
        }
    }
}
