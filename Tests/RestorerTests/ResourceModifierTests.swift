import Foundation
import KubeClient
import Testing

@testable import Restorer

@Suite("Resource modifiers")
struct ResourceModifierTests {
    static let deployments = TransformTests.resource("apps", "deployments", "Deployment")

    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web","tier":"front"}},
         "spec":{"replicas":3,"template":{"spec":{"containers":[
           {"name":"app","image":"web:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80,"protocol":"TCP"}]},
           {"name":"sidecar","image":"proxy:1"}],
           "volumes":[{"name":"data","emptyDir":{}}],"tolerations":[{"key":"a"}]}}}}
        """#

    /// The start of a rule set whose one rule matches every deployment.
    static let deploymentRule = "version: v1\nresourceModifierRules:\n- conditions: {groupResource: deployments.apps}\n"

    /// Applies the rules to `json` and compares with `expected`, both written out.
    static func check(
        _ yaml: String, _ json: String = deployment, resource: APIResource = deployments, expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let modifiers = try ResourceModifiers.parse(yaml: yaml)
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], sourceLocation: sourceLocation)
        try modifiers.apply(to: &object, resource: resource)
        let want = try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
        #expect(NSDictionary(dictionary: object) == want, "got \(object)", sourceLocation: sourceLocation)
    }

    @Test("JSON patches: replace, add, remove, copy, move; values read as Velero reads them")
    func jsonPatch() throws {
        try Self.check(
            """
            version: v1
            resourceModifierRules:
            - conditions:
                groupResource: deployments.apps
                resourceNameRegex: "^web-"
                namespaces: [prod]
              patches:
              - operation: replace
                path: /spec/replicas
                value: "1"
              - operation: add
                path: /metadata/labels/restored
                value: '"true"'
              - operation: add
                path: /metadata/annotations
                value: '{"note": "moved"}'
              - operation: remove
                path: /spec/template/spec/tolerations
              - operation: copy
                from: /metadata/labels/app
                path: /metadata/labels/copied
              - operation: move
                from: /metadata/labels/tier
                path: /metadata/labels/layer
              - operation: replace
                path: /spec/template/spec/containers/1/image
                value: proxy:2
            """,
            expected: #"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-1","namespace":"prod",
                  "labels":{"app":"web","layer":"front","restored":"true","copied":"web"},"annotations":{"note":"moved"}},
                 "spec":{"replicas":1,"template":{"spec":{"containers":[
                   {"name":"app","image":"web:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80,"protocol":"TCP"}]},
                   {"name":"sidecar","image":"proxy:2"}],
                   "volumes":[{"name":"data","emptyDir":{}}]}}}}
                """#)
    }

    @Test("a failing test operation leaves the object as it was; a missing path is an error naming the rule")
    func jsonPatchTest() throws {
        try Self.check(
            """
            version: v1
            resourceModifierRules:
            - conditions: {groupResource: "*.apps"}
              patches:
              - {operation: test, path: /spec/replicas, value: "5"}
              - {operation: replace, path: /spec/replicas, value: "0"}
            """, expected: Self.deployment)
        let modifiers = try ResourceModifiers.parse(
            yaml: """
                version: v1
                resourceModifierRules:
                - conditions: {groupResource: deployments.apps}
                  patches: [{operation: remove, path: /spec/paused}]
                """)
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.deployment.utf8)) as? [String: Any])
        #expect(
            throws: ResourceModifierError.apply(rule: 0, reason: "path /spec/paused does not exist")
        ) { try modifiers.apply(to: &object, resource: Self.deployments) }
    }

    @Test("conditions: group resource glob, name regex, namespaces, label selector, matches")
    func conditions() throws {
        let patch = "  mergePatches: [{patchData: '{\"metadata\": {\"annotations\": {\"hit\": \"yes\"}}}'}]"
        let hit =
            #"{"metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web"},"annotations":{"hit":"yes"}},"spec":{"replicas":3}}"#
        let miss = #"{"metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web"}},"spec":{"replicas":3}}"#
        let cases: [(String, String)] = [
            ("{groupResource: deployments.apps}", hit), ("{groupResource: '*.apps'}", hit),
            ("{groupResource: '*'}", miss), ("{groupResource: '**'}", hit), ("{groupResource: pods}", miss),
            ("{groupResource: deployments.apps, resourceNameRegex: '^api'}", miss),
            ("{groupResource: deployments.apps, namespaces: [dev, 'pr*']}", hit),
            ("{groupResource: deployments.apps, namespaces: [dev]}", miss),
            ("{groupResource: deployments.apps, labelSelector: {matchLabels: {app: web}}}", hit),
            (
                "{groupResource: deployments.apps, labelSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}}",
                miss
            ),
            ("{groupResource: deployments.apps, matches: [{path: /spec/replicas, value: '3'}]}", hit),
            ("{groupResource: deployments.apps, matches: [{path: /spec/replicas, value: '2'}]}", miss),
            ("{groupResource: deployments.apps, matches: [{path: /spec/paused, value: 'true'}]}", miss),
        ]
        for (conditions, expected) in cases {
            try Self.check(
                "version: v1\nresourceModifierRules:\n- conditions: \(conditions)\n\(patch)\n", miss,
                expected: expected)
        }
    }

    @Test("merge patches: maps merge, null removes, lists are replaced")
    func mergePatch() throws {
        try Self.check(
            Self.deploymentRule
                + """
                  mergePatches:
                  - patchData: |
                      metadata:
                        labels:
                          tier: null
                          env: staging
                      spec:
                        template:
                          spec:
                            tolerations: []
                            containers:
                            - name: only
                              image: x:1
                """,
            expected: #"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web","env":"staging"}},
                 "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"only","image":"x:1"}],
                   "volumes":[{"name":"data","emptyDir":{}}],"tolerations":[]}}}}
                """#)
    }

    @Test(
        "strategic merge patches: containers, env, ports, volumes merge by key; $patch directives; other lists replaced"
    )
    func strategicPatch() throws {
        try Self.check(
            Self.deploymentRule
                + """
                  strategicPatches:
                  - patchData: |
                      spec:
                        template:
                          spec:
                            containers:
                            - name: app
                              image: web:2
                              env:
                              - name: B
                                value: "20"
                              - name: C
                                value: "3"
                              ports:
                              - containerPort: 80
                                name: http
                              - containerPort: 443
                            - name: sidecar
                              $patch: delete
                            - name: logger
                              image: log:1
                            volumes:
                            - name: cache
                              emptyDir: {}
                            tolerations:
                            - key: b
                  - patchData: |
                      metadata:
                        labels:
                          $patch: replace
                          app: web2
                """,
            expected: #"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web2"}},
                 "spec":{"replicas":3,"template":{"spec":{"containers":[
                   {"name":"app","image":"web:2","env":[{"name":"A","value":"1"},{"name":"B","value":"20"},{"name":"C","value":"3"}],
                    "ports":[{"containerPort":80,"protocol":"TCP","name":"http"},{"containerPort":443}]},
                   {"name":"logger","image":"log:1"}],
                   "volumes":[{"name":"data","emptyDir":{}},{"name":"cache","emptyDir":{}}],"tolerations":[{"key":"b"}]}}}}
                """#)
        // A list replaced whole by an element with $patch: replace.
        try Self.check(
            Self.deploymentRule
                + """
                  strategicPatches:
                  - patchData: '{"spec":{"template":{"spec":{"volumes":[{"$patch":"replace"},{"name":"new","emptyDir":{}}]}}}}'
                """,
            #"{"metadata":{"name":"w"},"spec":{"template":{"spec":{"volumes":[{"name":"data","emptyDir":{}}]}}}}"#,
            expected:
                #"{"metadata":{"name":"w"},"spec":{"template":{"spec":{"volumes":[{"name":"new","emptyDir":{}}]}}}}"#
        )
    }

    @Test("rules match the object as it was before any rule ran, and apply in order")
    func ruleOrder() throws {
        try Self.check(
            Self.deploymentRule
                + """
                  patches: [{operation: replace, path: /metadata/labels/app, value: api}]
                - conditions: {groupResource: deployments.apps, labelSelector: {matchLabels: {app: web}}}
                  patches: [{operation: add, path: /metadata/labels/second, value: ran}]
                """, #"{"metadata":{"name":"web-1","namespace":"prod","labels":{"app":"web"}}}"#,
            expected: #"{"metadata":{"name":"web-1","namespace":"prod","labels":{"app":"api","second":"ran"}}}"#)
    }

    @Test(
        "invalid rules are refused naming the rule and the field",
        arguments: [
            ("version: v2\nresourceModifierRules: []", "unsupported version 'v2'"),
            ("version: v1\nresourceModifierRules: []", "resourceModifierRules cannot be empty"),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {}\n  patches: [{operation: add, path: /a}]",
                "resourceModifierRules[0].conditions.groupResource cannot be empty"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n- conditions: {groupResource: pods}\n  patches: [{operation: jump, path: /a}]",
                "resourceModifierRules[0] has no patches"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: jump, path: /a}]",
                "resourceModifierRules[0].patches[0].operation 'jump'"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: add}]",
                "resourceModifierRules[0].patches[0].path cannot be empty"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: add, path: /a}]\n  mergePatches: [{patchData: '{}'}]",
                "only one of patches, mergePatches, strategicPatches"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods, resourceNameRegex: '(['}\n  patches: [{operation: add, path: /a}]",
                "resourceNameRegex '([' is not a valid regular expression"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods, namespace: [a]}\n  patches: [{operation: add, path: /a}]",
                "resourceModifierRules[0].conditions has an unknown field 'namespace'"
            ),
            (
                "version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  mergePatches: [{patchData: '{a: [}'}]",
                "resourceModifierRules[0].mergePatches[0].patchData is not valid YAML"
            ),
            ("version: v1\nresourceModifierRules: [", "not valid YAML"),
        ])
    func invalid(yaml: String, message: String) {
        #expect {
            _ = try ResourceModifiers.parse(yaml: yaml)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("a ConfigMap must hold exactly one data key")
    func configMap() throws {
        let two = #"{"metadata":{"name":"m"},"data":{"a":"version: v1","b":"version: v1"}}"#
        #expect(throws: ResourceModifierError.self) {
            try ResourceModifiers.parse(configMap: Array(two.utf8), name: "velero/m")
        }
    }
}
