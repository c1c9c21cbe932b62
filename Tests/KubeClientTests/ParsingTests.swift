import Testing

@testable import KubeClient

@Suite("label selectors, JSON slicing and resource names")
struct ParsingTests {
    @Test(
        "selectors parse and match like the API server's",
        arguments: [
            ("app=web", ["app": "web"], true), ("app=web", ["app": "db"], false),
            ("app==web,tier!=db", ["app": "web", "tier": "fe"], true), ("tier!=db", [:], true),
            ("env in (prod, staging)", ["env": "staging"], true), ("env notin (prod)", ["env": "prod"], false),
            ("env notin (prod)", [:], true), ("legacy", ["legacy": ""], true), ("!legacy", ["legacy": "x"], false),
            ("example.com/team=a", ["example.com/team": "a"], true), ("app=", ["app": ""], true),
            ("app=", ["app": "x"], false),
        ])
    func selectors(text: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: text).matches(labels) == expected)
    }

    @Test(
        "invalid selectors are rejected with the reason",
        arguments: ["a b=c", "env in prod", "env in ()", "x=(y", ",", "-bad=x"])
    func invalidSelectors(text: String) {
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: text) }
    }

    @Test("a List is sliced into its items byte for byte; kind and apiVersion are added when a typed list omits them")
    func listSlicing() throws {
        let list =
            #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"tok"},"items":[{"metadata":{"name":"a","namespace":"ns","labels":{"x":"y"}},"data":{"k":"v \"quoted\" {[}"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}]}"#
        let page = try ListPage(listJSON: Array(list.utf8), apiVersion: "v1", kind: "ConfigMap")
        #expect(page.resourceVersion == "42")
        #expect(page.continueToken == "tok")
        #expect(page.items.count == 2)
        #expect(page.items[0].name == "a" && page.items[0].namespace == "ns")
        #expect(page.items[0].metadata.labels == ["x": "y"])
        #expect(
            String(decoding: page.items[0].json, as: UTF8.self)
                == #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"ns","labels":{"x":"y"}},"data":{"k":"v \"quoted\" {[}"}}"#
        )
        #expect(
            String(decoding: page.items[1].json, as: UTF8.self)
                == #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}"#)
        #expect(page.items[1].namespace == nil)
    }

    @Test(
        "malformed JSON is an error, not a crash",
        arguments: [#"{"items":[{"a":1}"#, #"{"a" 1}"#, "[", #"{"s":"unterminated}"#])
    func malformed(text: String) {
        #expect(throws: (any Error).self) { try ListPage(listJSON: Array(text.utf8), apiVersion: "v1", kind: "X") }
    }

    @Test("resource names match plural, singular, kind, short names, and name.group")
    func resourceNames() {
        let deployments = APIResource(
            group: "apps", version: "v1", name: "deployments", singularName: "deployment", kind: "Deployment",
            namespaced: true, shortNames: ["deploy"])
        for name in ["deployments", "deployment", "Deployment", "deploy", "deployments.apps", "deploy.apps"] {
            #expect(deployments.matches(name), "\(name)")
        }
        #expect(!deployments.matches("deployments.extensions"))
        #expect(!deployments.matches("pods"))
        #expect(deployments.path(namespace: "x") == "/apis/apps/v1/namespaces/x/deployments")
        let pv = APIResource(
            group: "", version: "v1", name: "persistentvolumes", kind: "PersistentVolume", namespaced: false)
        #expect(pv.path(namespace: "ignored") == "/api/v1/persistentvolumes")
        #expect(pv.qualifiedName == "persistentvolumes")
    }

    @Test(
        "a name from a spec stays one path segment: slashes, queries, percents and dot segments are encoded",
        arguments: [
            ("web-0", "web-0"), ("system:controller:job", "system:controller:job"),
            ("a/../../secrets", "a%2F..%2F..%2Fsecrets"),
            ("..", "%2E%2E"), (".", "%2E"), ("x?watch=1", "x%3Fwatch=1"), ("50%", "50%25"), ("é", "%C3%A9"),
        ])
    func objectPathSegments(name: String, segment: String) {
        let secrets = APIResource(group: "", version: "v1", name: "secrets", kind: "Secret", namespaced: true)
        #expect(secrets.path(namespace: "velero", name: name) == "/api/v1/namespaces/velero/secrets/" + segment)
        #expect(secrets.path(namespace: "a/b") == "/api/v1/namespaces/a%2Fb/secrets")
    }

    @Test("query values are percent-encoded")
    func queryEncoding() {
        #expect(
            KubeClient.queryString([("labelSelector", "a in (b,c),!d")]) == "?labelSelector=a%20in%20%28b%2Cc%29%2C%21d"
        )
    }
}
