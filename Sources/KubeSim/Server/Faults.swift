import Synchronization

/// A fault to inject into matching requests: added latency, an error status, or both.
///
/// Which requests: those whose path starts with `pathPrefix` (when set) and whose verb is `verb` (when set; a
/// Kubernetes verb such as "list" or "create", or an HTTP method such as "GET"). How often: the first `count` matching
/// requests, or each with probability `fraction`, or every one when neither is set.
public struct Fault: Sendable, Equatable {
    public var latency: Duration
    /// 500, 503 or 429 (or any other error status); nil for latency only.
    public var status: Int?
    public var fraction: Double?
    public var count: Int?
    /// The Retry-After header (and details.retryAfterSeconds) of a 429.
    public var retryAfterSeconds: Int
    public var pathPrefix: String?
    public var verb: String?

    public init(
        latency: Duration = .zero, status: Int? = nil, fraction: Double? = nil, count: Int? = nil,
        retryAfterSeconds: Int = 1, pathPrefix: String? = nil, verb: String? = nil
    ) {
        self.latency = latency
        self.status = status
        self.fraction = fraction
        self.count = count
        self.retryAfterSeconds = retryAfterSeconds
        self.pathPrefix = pathPrefix
        self.verb = verb
    }

    public static func latency(_ latency: Duration, pathPrefix: String? = nil, verb: String? = nil) -> Fault {
        Fault(latency: latency, pathPrefix: pathPrefix, verb: verb)
    }

    public static func error(
        _ status: Int, count: Int? = nil, fraction: Double? = nil, pathPrefix: String? = nil, verb: String? = nil
    ) -> Fault {
        Fault(status: status, fraction: fraction, count: count, pathPrefix: pathPrefix, verb: verb)
    }

    public static func throttle(
        count: Int, retryAfterSeconds: Int = 1, pathPrefix: String? = nil, verb: String? = nil
    ) -> Fault {
        Fault(status: 429, count: count, retryAfterSeconds: retryAfterSeconds, pathPrefix: pathPrefix, verb: verb)
    }

    func matches(path: String, verb requestVerb: String, method: String) -> Bool {
        if let pathPrefix, !path.hasPrefix(pathPrefix) { return false }
        if let verb, verb != requestVerb && verb != method { return false }
        return true
    }

    /// The JSON form served at /sim/faults: {"latencyMs","status","fraction","count","retryAfterSeconds",
    /// "pathPrefix","verb"}.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "latencyMs": .number(
                String(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)),
            "retryAfterSeconds": .number(String(retryAfterSeconds)),
        ]
        if let status { members["status"] = .number(String(status)) }
        if let fraction { members["fraction"] = .number(String(fraction)) }
        if let count { members["count"] = .number(String(count)) }
        if let pathPrefix { members["pathPrefix"] = .string(pathPrefix) }
        if let verb { members["verb"] = .string(verb) }
        return .object(members)
    }

    init(json: JSONValue) throws(APIError) {
        guard case .object(let members) = json else { throw APIError.badRequest("a fault must be a JSON object") }
        func number(_ key: String) throws(APIError) -> Double? {
            guard let value = members[key], value != .null else { return nil }
            guard case .number(let literal) = value, let number = Double(literal) else {
                throw APIError.badRequest("fault field \(key) must be a number")
            }
            return number
        }
        let known: Set = ["latencyMs", "status", "fraction", "count", "retryAfterSeconds", "pathPrefix", "verb"]
        if let unknown = members.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest(
                "unknown fault field \"\(unknown)\"; known: \(known.sorted().joined(separator: ", "))")
        }
        self.init(
            latency: .milliseconds(Int(try number("latencyMs") ?? 0)), status: try number("status").map { Int($0) },
            fraction: try number("fraction"), count: try number("count").map { Int($0) },
            retryAfterSeconds: Int(try number("retryAfterSeconds") ?? 1),
            pathPrefix: members["pathPrefix"]?.stringValue,
            verb: members["verb"]?.stringValue)
        if let status, !(400...599).contains(status) { throw APIError.badRequest("fault status must be 400...599") }
        if let fraction, !(0...1).contains(fraction) { throw APIError.badRequest("fault fraction must be in 0...1") }
    }
}

/// What the injector decided for one request.
struct FaultDecision: Sendable {
    var latency: Duration = .zero
    var error: APIError?
}

/// The active faults; thread-safe.
final class FaultInjector: Sendable {
    private struct State {
        var faults: [Fault] = []
        var random: SeededGenerator
    }

    private let state: Mutex<State>

    init(seed: UInt64) {
        state = Mutex(State(random: SeededGenerator(seed: seed)))
    }

    var faults: [Fault] { state.withLock { $0.faults } }

    func add(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

    func clear() { state.withLock { $0.faults.removeAll() } }

    func decide(path: String, verb: String, method: String) -> FaultDecision {
        state.withLock { state in
            var decision = FaultDecision()
            var index = 0
            while index < state.faults.count {
                let fault = state.faults[index]
                guard fault.matches(path: path, verb: verb, method: method) else {
                    index += 1
                    continue
                }
                var fires = true
                if let count = fault.count {
                    fires = count > 0
                    if fires { state.faults[index].count = count - 1 }
                } else if let fraction = fault.fraction {
                    fires = Double.random(in: 0..<1, using: &state.random) < fraction
                }
                if fires {
                    decision.latency += fault.latency
                    if decision.error == nil, let status = fault.status {
                        decision.error = Self.error(status: status, retryAfter: fault.retryAfterSeconds)
                    }
                }
                if state.faults[index].count == 0 {
                    state.faults.remove(at: index)
                } else {
                    index += 1
                }
            }
            return decision
        }
    }

    private static func error(status: Int, retryAfter: Int) -> APIError {
        switch status {
        case 429: APIError.tooManyRequests(retryAfter: retryAfter)
        case 500: APIError.internalError("injected fault")
        case 503: APIError.serviceUnavailable("the server is currently unable to handle the request (injected fault)")
        case 504:
            APIError(
                code: 504, reason: "Timeout",
                message: "the server was unable to return a response in time (injected fault)")
        default: APIError(code: status, reason: "InternalError", message: "injected fault (\(status))")
        }
    }
}

/// One request the server answered.
public struct RequestRecord: Sendable, Equatable {
    /// The HTTP method, e.g. "GET".
    public var method: String
    /// The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; or "discovery" /
    /// "other" outside resource paths.
    public var verb: String
    public var path: String
    public var query: String
    public var status: Int
}

/// Every request, in arrival order, for tests that assert "the client retried" or "one LIST per type".
final class RequestLog: Sendable {
    private let records = Mutex<[RequestRecord]>([])
    static let capacity = 2_000_000

    func append(_ record: RequestRecord) {
        records.withLock { records in
            if records.count >= Self.capacity { records.removeFirst(records.count / 2) }
            records.append(record)
        }
    }

    var all: [RequestRecord] { records.withLock { $0 } }

    func count(where predicate: (RequestRecord) -> Bool) -> Int {
        records.withLock { $0.reduce(0) { $0 + (predicate($1) ? 1 : 0) } }
    }

    func reset() { records.withLock { $0.removeAll() } }
}
