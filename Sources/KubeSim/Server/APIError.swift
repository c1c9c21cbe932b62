/// A failed request, rendered as the real server's `Status` object.
struct APIError: Error, Sendable {
    struct Cause: Sendable {
        var reason: String
        var message: String
        var field: String
    }

    var code: Int
    var reason: String
    var message: String
    var name: String? = nil
    var group: String? = nil
    var kind: String? = nil
    var causes: [Cause] = []
    var retryAfterSeconds: Int? = nil

    /// The `Status` JSON body.
    var status: JSONValue {
        var details: [String: JSONValue] = [:]
        if let name { details["name"] = .string(name) }
        if let group, !group.isEmpty { details["group"] = .string(group) }
        if let kind { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(
                causes.map {
                    ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
                })
        }
        if let retryAfterSeconds { details["retryAfterSeconds"] = .number(String(retryAfterSeconds)) }
        var object: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .number(String(code)),
        ]
        if !details.isEmpty { object["details"] = .object(details) }
        return .object(object)
    }

    // MARK: - The real server's errors (k8s.io/apimachinery/pkg/api/errors)

    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(type.key) \"\(name)\" not found", name: name, group: type.group,
            kind: type.resource)
    }

    static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found", name: namespace,
            kind: "namespaces")
    }

    static let unknownPath = APIError(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(type.key) \"\(name)\" already exists", name: name,
            group: type.group, kind: type.resource)
    }

    static func conflict(_ type: ResourceType, _ name: String, _ detail: String? = nil) -> APIError {
        let why =
            detail ?? "the object has been modified; please apply your changes to the latest version and try again"
        return APIError(
            code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(type.key) \"\(name)\": \(why)",
            name: name, group: type.group, kind: type.resource)
    }

    static func invalid(_ type: ResourceType, _ name: String, _ causes: [Cause]) -> APIError {
        let summary = causes.map { "\($0.field): \($0.message)" }
        let joined = summary.count == 1 ? summary[0] : "[" + summary.joined(separator: ", ") + "]"
        let qualified = type.group.isEmpty ? type.kind : type.kind + "." + type.group
        return APIError(
            code: 422, reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(joined)",
            name: name, group: type.group, kind: type.kind, causes: causes)
    }

    static func invalidValue(field: String, value: String, _ problem: String) -> Cause {
        Cause(reason: "FieldValueInvalid", message: "Invalid value: \"\(value)\": \(problem)", field: field)
    }

    static func required(field: String, _ problem: String) -> Cause {
        Cause(reason: "FieldValueRequired", message: "Required value: \(problem)", field: field)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func forbidden(
        user: String, verb: String, type: ResourceType?, resourceName: String, name: String?, namespace: String?
    ) -> APIError {
        let qualified = type?.key ?? resourceName
        let subject = name.map { "\(qualified) \"\($0)\"" } ?? qualified
        let group = type?.group ?? ""
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIError(
            code: 403, reason: "Forbidden",
            message: "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resourceName)\" "
                + "in API group \"\(group)\" \(scope)",
            name: name, group: group, kind: resourceName)
    }

    /// Creating in a namespace that is being deleted.
    static func namespaceTerminating(_ type: ResourceType, _ name: String, namespace: String) -> APIError {
        APIError(
            code: 403, reason: "Forbidden",
            message: "\(type.key) \"\(name)\" is forbidden: unable to create new content in namespace \(namespace) "
                + "because it is being terminated",
            name: name, group: type.group, kind: type.key)
    }

    static func methodNotAllowed() -> APIError {
        APIError(
            code: 405, reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource")
    }

    static let continueExpired = APIError(
        code: 410, reason: "Expired",
        message: "The provided continue parameter is too old to display a consistent list result. You can start a new "
            + "list without the continue parameter, or use the continue token in this response to retrieve the "
            + "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
            + "that were created, modified, or deleted between the time the first chunk was returned and now may show "
            + "up in the list.")

    static func resourceVersionTooOld(_ requested: UInt64, oldest: UInt64) -> APIError {
        APIError(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(oldest))")
    }

    static func tooManyRequests(retryAfter: Int) -> APIError {
        APIError(
            code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
            retryAfterSeconds: retryAfter)
    }

    static func internalError(_ detail: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(detail)")
    }

    static func serviceUnavailable(_ detail: String) -> APIError {
        APIError(code: 503, reason: "ServiceUnavailable", message: detail)
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - "
                + "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                + "application/apply-patch+yaml, application/strategic-merge-patch+json (got \(contentType))")
    }

    static func requestTooLarge() -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large")
    }
}
