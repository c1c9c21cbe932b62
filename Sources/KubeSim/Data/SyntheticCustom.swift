/// Custom resources (widgets, gizmos, sprockets, backups) and the CustomResourceDefinitions that serve them.
extension SyntheticWriter {
    /// `{"metadata":…` (generation 1, no notes), then `head`, the filler as a JSON string, then `tail`.
    mutating func addCustom(_ place: Placement, head: String, tail: String) {
        add(place.key, place.identity, target: place.target) { builder, identity, filler in
            builder.raw("{\"metadata\":")
            Self.meta(&builder, identity, notes: nil, generation: 1)
            builder.raw(head)
            builder.string(filler)
            builder.raw(tail)
        }
    }

    mutating func addWidget(_ place: Placement) {
        let size = ["small", "medium", "large"].randomElement(using: &random)!
        addCustom(
            place, head: #","spec":{"color":"blue","description":"#,
            tail: #","replicas":3,"size":"\#(size)"},"status":{"ready":true}}"#)
    }

    mutating func addGizmo(_ place: Placement) {
        let firmware = "v2.\(random.next() % 10).\(random.next() % 20)"
        let mode = random.next() % 4 == 0 ? "standby" : "active"
        let serial = "GZ-" + Identifiers.randomSuffix(length: 8, using: &random).uppercased()
        addCustom(
            place, head: #","spec":{"enabled":true,"firmware":"\#(firmware)","mode":"\#(mode)","notes":"#,
            tail: #","ports":[8080,8443],"serial":"\#(serial)"},"status":{"conditions":[{"#
                + #""lastTransitionTime":"\#(place.identity.later(5))","status":"True","type":"Ready"}],"#
                + #""phase":"Online"}}"#)
    }

    mutating func addSprocket(_ place: Placement) {
        let diameter = 20 + Int(random.next() % 180)
        let material = ["brass", "nylon", "steel", "titanium"].randomElement(using: &random)!
        let teeth = 12 + Int(random.next() % 60)
        addCustom(
            place, head: #","spec":{"blueprint":"#,
            tail: #","diameterMillimeters":\#(diameter),"material":"\#(material)","teeth":\#(teeth)},"#
                + #""status":{"observedGeneration":1,"state":"Installed"}}"#)
    }

    mutating func addBackup(_ place: Placement) {
        let days = [7, 14, 30, 90].randomElement(using: &random)!
        let size = 10 + Int(random.next() % 5000)
        let namespace = place.identity.namespace
        addCustom(
            place,
            head: #","spec":{"database":"\#(place.app)-db","destination":{"bucket":"db-backups-\#(namespace)","#
                + #""prefix":"\#(place.app)/","provider":"s3"},"retention":{"days":\#(days)},"#
                + #""schedule":"0 2 * * *","script":"#,
            tail: #"},"status":{"completionTimestamp":"\#(place.identity.later(900))","#
                + #""lastBackupSize":"\#(size)Mi","phase":"Completed"}}"#)
    }

    /// The CRD of a generated custom resource type, accepted and established; the first version is stored.
    mutating func addDefinition(_ type: ResourceType) {
        let created = created()
        var names: [String: JSONValue] = [
            "plural": .string(type.resource), "singular": .string(type.singular), "kind": .string(type.kind),
            "listKind": .string(type.listKind),
        ]
        if !type.shortNames.isEmpty { names["shortNames"] = .array(type.shortNames.map { .string($0) }) }
        if !type.categories.isEmpty { names["categories"] = .array(type.categories.map { .string($0) }) }
        let versions: [JSONValue] = type.versions.map { version in
            [
                "name": .string(version), "served": true, "storage": .bool(version == type.preferredVersion),
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            ]
        }
        let definition: JSONValue = [
            "metadata": [
                "name": .string(type.key), "uid": .string(Identifiers.uuid(using: &random)),
                "resourceVersion": .string(String(nextVersion())), "creationTimestamp": .string(created),
                "generation": 1,
            ],
            "spec": [
                "group": .string(type.group), "scope": type.namespaced ? "Namespaced" : "Cluster",
                "names": .object(names), "versions": .array(versions),
            ],
        ]
        var complete = definition
        complete["status"] = CustomResources.acceptedStatus(for: type, definition: definition, now: created)
        let definitionType = ResourceType.builtIn.first { $0.key == CustomResources.definitionKey }!
        let object = StoredObject.encode(complete, type: definitionType)
        objects[CustomResources.definitionKey, default: []].append(object)
        summary.counts[CustomResources.definitionKey, default: 0] += 1
        summary.bytes += object.body.count
    }
}
