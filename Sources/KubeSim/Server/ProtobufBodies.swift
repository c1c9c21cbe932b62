/// Decodes the Kubernetes protobuf request bodies that kubectl's typed clients send (`kubectl create namespace`,
/// `create configmap`, `create secret`, `create serviceaccount`): the "k8s\0" + runtime.Unknown envelope and the few
/// types above, field numbers from k8s.io/api/core/v1/generated.proto. Other types get 415 with a clear message.
enum ProtobufBodies {
    static let contentType = "application/vnd.kubernetes.protobuf"

    indirect enum Field: Sendable {
        case string, bytes, integer, bool, time
        case message([Int: (String, Field)])
        case repeated(Field)
        case stringMap, bytesMap
    }

    static let ownerReference: [Int: (String, Field)] = [
        1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string), 5: ("apiVersion", .string),
        6: ("controller", .bool), 7: ("blockOwnerDeletion", .bool),
    ]
    static let objectMeta: [Int: (String, Field)] = [
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 7: ("generation", .integer), 8: ("creationTimestamp", .time),
        11: ("labels", .stringMap), 12: ("annotations", .stringMap),
        13: ("ownerReferences", .repeated(.message(ownerReference))), 14: ("finalizers", .repeated(.string)),
    ]
    static let objectReference: [Int: (String, Field)] = [
        1: ("kind", .string), 2: ("namespace", .string), 3: ("name", .string), 4: ("uid", .string),
        5: ("apiVersion", .string), 6: ("resourceVersion", .string), 7: ("fieldPath", .string),
    ]
    static let schemas: [String: [Int: (String, Field)]] = [
        "Namespace": [
            1: ("metadata", .message(objectMeta)), 2: ("spec", .message([1: ("finalizers", .repeated(.string))])),
            3: ("status", .message([1: ("phase", .string)])),
        ],
        "ConfigMap": [
            1: ("metadata", .message(objectMeta)), 2: ("data", .stringMap), 3: ("binaryData", .bytesMap),
            4: ("immutable", .bool),
        ],
        "Secret": [
            1: ("metadata", .message(objectMeta)), 2: ("data", .bytesMap), 3: ("type", .string),
            4: ("stringData", .stringMap), 5: ("immutable", .bool),
        ],
        "ServiceAccount": [
            1: ("metadata", .message(objectMeta)), 2: ("secrets", .repeated(.message(objectReference))),
            3: ("imagePullSecrets", .repeated(.message([1: ("name", .string)]))),
            4: ("automountServiceAccountToken", .bool),
        ],
    ]

    static func decode(_ body: [UInt8], type: ResourceType) throws(APIError) -> JSONValue {
        guard body.count >= 4, body[0..<4] == [0x6B, 0x38, 0x73, 0x00] else {
            throw APIError.badRequest("protobuf body without the k8s envelope")
        }
        var typeMeta: JSONValue = [:]
        var raw: ArraySlice<UInt8> = []
        for entry in try scan(body[4...]) {
            if entry.field == 1 {
                typeMeta = try message(entry.payload, [1: ("apiVersion", .string), 2: ("kind", .string)])
            }
            if entry.field == 2 { raw = entry.payload }
        }
        let kind = typeMeta["kind"]?.stringValue ?? type.kind
        guard let schema = schemas[kind] else {
            throw APIError(
                code: 415, reason: "UnsupportedMediaType",
                message: "kube-sim decodes protobuf only for Namespace, ConfigMap, Secret and ServiceAccount; send "
                    + "\(kind) as application/json")
        }
        var object = try message(raw, schema)
        object["apiVersion"] = typeMeta["apiVersion"] ?? .string(type.apiVersion())
        object["kind"] = .string(kind)
        return object
    }

    private static func varint(_ bytes: ArraySlice<UInt8>, _ index: inout Int) throws(APIError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { break }
        }
        throw APIError.badRequest("malformed protobuf body")
    }

    /// The fields of one message: number, varint value, length-delimited payload.
    private static func scan(_ bytes: ArraySlice<UInt8>) throws(APIError)
        -> [(field: Int, number: UInt64, payload: ArraySlice<UInt8>)]
    {
        var fields: [(field: Int, number: UInt64, payload: ArraySlice<UInt8>)] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let tag = try varint(bytes, &index)
            var number: UInt64 = 0
            var payload = bytes[index..<index]
            switch tag & 7 {
            case 0: number = try varint(bytes, &index)
            case 2:
                let length = Int(try varint(bytes, &index))
                guard length >= 0, index + length <= bytes.endIndex else {
                    throw APIError.badRequest("malformed protobuf body")
                }
                payload = bytes[index..<(index + length)]
                index += length
            case 1: index += 8
            case 5: index += 4
            default: throw APIError.badRequest("malformed protobuf body")
            }
            fields.append((Int(tag >> 3), number, payload))
        }
        return fields
    }

    private static func message(_ bytes: ArraySlice<UInt8>, _ schema: [Int: (String, Field)]) throws(APIError)
        -> JSONValue
    {
        var members: [String: JSONValue] = [:]
        for entry in try scan(bytes) {
            guard let (name, field) = schema[entry.field] else { continue }
            let value = try decodeField(field, number: entry.number, payload: entry.payload)
            switch (field, members[name]) {
            case (.repeated, .array(let existing)?): members[name] = .array(existing + (value.arrayValue ?? []))
            case (.stringMap, .object(let existing)?), (.bytesMap, .object(let existing)?):
                members[name] = .object(existing.merging(value.objectValue ?? [:]) { $1 })
            default: members[name] = value
            }
        }
        return .object(members.filter { !isEmpty($0.value) })
    }

    private static func decodeField(_ field: Field, number: UInt64, payload: ArraySlice<UInt8>) throws(APIError)
        -> JSONValue
    {
        switch field {
        case .string: return .string(String(decoding: payload, as: UTF8.self))
        case .bytes: return .string(Base64.encode(payload))
        case .integer: return .number(String(Int64(bitPattern: number)))
        case .bool: return .bool(number != 0)
        case .time:
            let seconds = try message(payload, [1: ("seconds", .integer)])["seconds"]
            guard case .number(let text)? = seconds, let value = Int(text), value != 0 else { return .null }
            return .string(Timestamp.rfc3339(epochSeconds: value))
        case .message(let schema): return try message(payload, schema)
        case .repeated(let element):
            return .array([try decodeField(element, number: number, payload: payload)])
        case .stringMap, .bytesMap:
            let isBytes = if case .bytesMap = field { true } else { false }
            let entry = try message(payload, [1: ("key", .string), 2: ("value", isBytes ? .bytes : .string)])
            return .object([entry["key"]?.stringValue ?? "": entry["value"] ?? .string("")])
        }
    }

    private static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .string(let text): text.isEmpty
        case .number(let literal): literal == "0"
        case .array(let elements): elements.isEmpty
        case .object(let members): members.isEmpty
        case .bool: false
        }
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let chunk = input[index..<min(index + 3, input.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                output.append(
                    position <= chunk.count
                        ? alphabet[Int((value >> (18 - 6 * UInt32(position))) & 63)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
