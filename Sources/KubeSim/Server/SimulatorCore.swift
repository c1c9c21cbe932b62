import Synchronization

/// The server minus the sockets: routing, authentication, faults, and the resource handlers.
final class SimulatorCore: Sendable {
    let configuration: KubeSimConfiguration
    let store: ObjectStore
    let faults: FaultInjector
    let log = RequestLog()
    /// Seats and queue when the configuration models a finite capacity.
    let capacity: CapacityGate?
    private let credentials: [String: Credential]
    /// "127.0.0.1:PORT", set once the socket is bound (discovery reports it).
    let serverAddress = Mutex("")

    init(configuration: KubeSimConfiguration) {
        self.configuration = configuration
        store = ObjectStore(
            initialRevision: configuration.initialResourceVersion, historyCapacity: configuration.watchHistoryLimit)
        faults = FaultInjector(seed: configuration.faultSeed)
        capacity = configuration.capacity.map(CapacityGate.init)
        var byToken: [String: Credential] = [:]
        for credential in configuration.credentials { byToken[credential.token] = credential }
        credentials = byToken
    }

    /// What to do with a request before its response is computed: the delay to apply, or an answer already.
    struct Admission: Sendable {
        var route: Route
        var verb: String
        var latency: Duration
        var immediate: SimResponse?

        /// Whether the request takes one of the server's seats: everything but watches and the simulator's own
        /// endpoints, as APF exempts long-running requests.
        var takesSeat: Bool {
            if case .sim = route { return false }
            return verb != "watch"
        }
    }

    /// Routes, logs nothing yet, and decides faults: called as soon as the request is complete.
    func admit(_ request: SimRequest) -> Admission {
        let route = Route.parse(request.path)
        let verb = Self.verb(of: route, request)
        if case .sim = route { return Admission(route: route, verb: verb, latency: .zero, immediate: nil) }
        let decision = faults.decide(path: request.path, verb: verb, method: request.method)
        return Admission(
            route: route, verb: verb, latency: decision.latency, immediate: decision.error.map { SimResponse.error($0) }
        )
    }

    /// Computes the response (after any injected latency) and records the request.
    func respond(_ request: SimRequest, _ admission: Admission) -> SimResponse {
        let response = admission.immediate ?? dispatch(request, admission.route, verb: admission.verb)
        if case .sim = admission.route {
        } else {
            log.append(
                RequestRecord(
                    method: request.method, verb: admission.verb, path: request.path, query: request.rawQuery,
                    status: response.status))
        }
        return response
    }

    static func verb(of route: Route, _ request: SimRequest) -> String {
        guard case .resource(let target) = route else {
            switch route {
            case .coreVersions, .groupList, .group, .resourceList, .version, .openAPI, .root: return "discovery"
            default: return "other"
            }
        }
        let hasName = target.name != nil
        switch request.method {
        case "GET": return hasName ? "get" : (request.flag("watch") ? "watch" : "list")
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return hasName ? "delete" : "deletecollection"
        default: return request.method.lowercased()
        }
    }

    private func dispatch(_ request: SimRequest, _ route: Route, verb: String) -> SimResponse {
        if case .sim(let segments) = route { return simEndpoint(segments, request) }
        if case .health = route { return .text(200, "ok") }
        let user: Credential
        do throws(APIError) {
            user = try authenticate(request)
        } catch {
            return .error(error)
        }
        switch route {
        case .root:
            return .json(200, ["paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]])
        case .version: return .json(200, Discovery.version(configuration.serverVersion))
        case .coreVersions: return .json(200, Discovery.coreVersions(serverAddress: serverAddress.withLock { $0 }))
        case .groupList: return .json(200, Discovery.groupList(store.types()))
        case .group(let name):
            guard let document = Discovery.group(name, store.types()) else { return .error(.unknownPath) }
            return .json(200, document)
        case .resourceList(let group, let version):
            guard let document = Discovery.resourceList(group: group, version: version, store.types()) else {
                return .error(.unknownPath)
            }
            return .json(200, document)
        case .resource(let target):
            do throws(APIError) {
                return try handleResource(request, target, verb: verb, user: user)
            } catch {
                return .error(error)
            }
        case .openAPI, .unknown, .sim, .health:
            return .error(.unknownPath)
        }
    }

    func authenticate(_ request: SimRequest) throws(APIError) -> Credential {
        guard !credentials.isEmpty else { return Credential(token: "", role: .admin, user: "kube-sim-admin") }
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("bearer "),
            let credential = credentials[header.dropFirst(7).trimmed]
        else { throw APIError.unauthorized }
        return credential
    }

    private func handleResource(_ request: SimRequest, _ target: Route.ResourceRoute, verb: String, user: Credential)
        throws(APIError) -> SimResponse
    {
        guard let type = store.resolve(group: target.group, version: target.version, resource: target.resource) else {
            throw APIError.unknownPath
        }
        if user.role == .readOnly && !["get", "list", "watch"].contains(verb) {
            throw APIError.forbidden(
                user: user.user, verb: verb, type: type, resourceName: type.resource, name: target.name,
                namespace: target.namespace)
        }
        if type.namespaced == false && target.namespace != nil { throw APIError.unknownPath }
        if type.namespaced && target.namespace == nil && target.name != nil { throw APIError.unknownPath }
        if target.subresource == "exec" && type.key == "pods" {
            // An exec that reached here was not upgraded to a WebSocket (see ExecHandler).
            _ = try execPlan(request)
            throw APIError.badRequest("Upgrade request required")
        }
        if let subresource = target.subresource {
            guard subresource == "status" else { throw APIError.unknownPath }
            guard ["get", "update", "patch"].contains(verb) else { throw APIError.methodNotAllowed() }
        }
        let handlers = ResourceHandlers(core: self, type: type, target: target, request: request)
        switch verb {
        case "get": return try handlers.get()
        case "list": return try handlers.list()
        case "watch": return try handlers.watch()
        case "create":
            guard target.name == nil, type.namespaced == false || target.namespace != nil else {
                throw APIError.methodNotAllowed()
            }
            return try handlers.create()
        case "update":
            guard target.name != nil else { throw APIError.methodNotAllowed() }
            return try handlers.update()
        case "patch":
            guard target.name != nil else { throw APIError.methodNotAllowed() }
            return try handlers.patch()
        case "delete": return try handlers.delete()
        case "deletecollection":
            guard type.verbs.contains("deletecollection") else { throw APIError.methodNotAllowed() }
            return try handlers.deleteCollection()
        default: throw APIError.methodNotAllowed()
        }
    }

    // MARK: - /sim control endpoints

    private func simEndpoint(_ segments: [String], _ request: SimRequest) -> SimResponse {
        switch (request.method, segments) {
        case ("GET", ["faults"]):
            return .json(200, ["faults": .array(faults.faults.map(\.json))])
        case ("POST", ["faults"]):
            do throws(APIError) {
                let parsed: JSONValue
                do { parsed = try JSONValue.parse(request.body) } catch {
                    throw APIError.badRequest("invalid JSON: \(error)")
                }
                let list = parsed["faults"]?.arrayValue ?? parsed.arrayValue ?? [parsed]
                var added: [Fault] = []
                for item in list { added.append(try Fault(json: item)) }
                for fault in added { faults.add(fault) }
                return .json(201, ["faults": .array(faults.faults.map(\.json))])
            } catch {
                return .error(error)
            }
        case ("DELETE", ["faults"]):
            faults.clear()
            return .json(200, ["faults": []])
        case ("POST", ["compact"]):
            store.compact()
            return .json(200, ["compactedRevision": .number(String(store.compactedRevision))])
        case ("GET", ["stats"]):
            var byVerb: [String: Int] = [:]
            for record in log.all { byVerb[record.verb, default: 0] += 1 }
            return .json(
                200,
                [
                    "objects": .number(String(store.count(typeKey: nil))),
                    "resourceVersion": .string(String(store.revision)),
                    "requests": .object(byVerb.mapValues { .number(String($0)) }),
                ])
        case ("DELETE", ["requests"]):
            log.reset()
            return .json(200, [:])
        default:
            return .error(.unknownPath)
        }
    }
}
