import Foundation
import HTTPTransport
import KubeSim
import Testing

@Suite("List, pagination and selectors")
struct ListTests {
    /// 3 namespaces × 7 config maps, created out of order.
    static func populate(_ sim: SimHarness) async throws {
        for namespace in ["b-ns", "a-ns", "c-ns"] {
            _ = try sim.server.create(Objects.namespace(namespace))
            for index in [4, 0, 6, 2, 1, 5, 3] {
                let tier = index % 2 == 0 ? "front" : "back"
                _ = try sim.server.create(
                    Objects.configMap("cm-\(index)", namespace: namespace, labels: ["tier": tier, "n": "\(index)"]))
            }
        }
    }

    @Test("a list has the real shape; built-in items carry no kind or apiVersion")
    func shape() async throws {
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let response = try await sim.get("/api/v1/namespaces/a-ns/configmaps")
            let text = response.text
            #expect(text.hasPrefix("{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{"))
            let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            let metadata = try #require(list?["metadata"] as? [String: Any])
            #expect(metadata["resourceVersion"] as? String == String(sim.server.resourceVersion))
            #expect(metadata["continue"] == nil)
            #expect(metadata["remainingItemCount"] == nil)
            let items = try #require(list?["items"] as? [[String: Any]])
            #expect(items.count == 7)
            #expect(items.allSatisfy { $0["kind"] == nil && $0["apiVersion"] == nil })
            #expect(try response.json().itemNames == (0..<7).map { "cm-\($0)" })
        }
    }

    @Test("all-namespace lists are ordered by namespace, then name")
    func order() async throws {
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let keys = try await sim.getJSON("/api/v1/configmaps").itemKeys
            #expect(keys.count == 21)
            #expect(keys == keys.sorted())
            #expect(keys.first == "a-ns/cm-0")
            #expect(keys.last == "c-ns/cm-6")
        }
    }

    @Test("limit and continue page through everything once, in order", arguments: [1, 4, 20, 21, 50])
    func pagination(limit: Int) async throws {
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let all = try await sim.getJSON("/api/v1/configmaps").itemKeys
            var seen: [String] = []
            var token: String?
            var pages = 0
            var listVersion: JSONValue?
            repeat {
                var path = "/api/v1/configmaps?limit=\(limit)"
                if let token { path += "&continue=\(token)" }
                let page = try await sim.getJSON(path)
                pages += 1
                let keys = page.itemKeys
                #expect(keys.count <= limit)
                seen += keys
                token = page["metadata"]?["continue"]?.stringValue
                if listVersion == nil { listVersion = page["metadata"]?["resourceVersion"] }
                #expect(page["metadata"]?["resourceVersion"] == listVersion, "continued pages keep the list's version")
                if token != nil {
                    #expect(page["metadata"]?["remainingItemCount"] == .number(String(all.count - seen.count)))
                    _ = try sim.server.create(Objects.configMap("zz-late-\(pages)", namespace: "c-ns"))
                }
            } while token != nil && pages < 100
            #expect(seen == all, "pages concatenate to the full list, a consistent snapshot")
            #expect(Set(seen).count == seen.count)
            #expect(pages == (all.count + limit - 1) / limit)
        }
    }

    @Test("a continue token is 410 Expired after compact() or once older than the compaction window")
    func expiredContinue() async throws {
        // The window is generous so a loaded CI machine still fetches the second page inside it.
        // (seen: more than 3 s between two requests under a full CI run on 2 cores).
        try await SimHarness.with(KubeSimConfiguration(compactionWindow: .seconds(10))) { sim in
            try await Self.populate(sim)
            let first = try await sim.getJSON("/api/v1/configmaps?limit=5")
            let token = try #require(first["metadata"]?["continue"]?.stringValue)
            #expect(try await sim.get("/api/v1/configmaps?limit=5&continue=\(token)").status == 200)
            try await Task.sleep(for: .milliseconds(10_200))
            try await sim.get("/api/v1/configmaps?limit=5&continue=\(token)").expectStatus(410, reason: "Expired")
        }
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let first = try await sim.getJSON("/api/v1/configmaps?limit=5")
            let token = try #require(first["metadata"]?["continue"]?.stringValue)
            sim.server.compact()
            let response = try await sim.get("/api/v1/configmaps?limit=5&continue=\(token)")
            try response.expectStatus(410, reason: "Expired")
            #expect(try response.json()["message"]?.stringValue?.contains("too old") == true)
            try await sim.get("/api/v1/configmaps?continue=garbage!").expectStatus(400, reason: "BadRequest")
        }
    }

    @Test(
        "label selectors: =, ==, !=, in, notin, exists, !exists, AND",
        arguments: [
            ("tier=front", 4), ("tier==back", 3), ("tier!=front", 3), ("n in (1,2,9)", 2), ("n notin (1,2)", 5),
            ("tier", 7), ("!tier", 0), ("tier=front,n!=0", 3), ("n in (1, 3),tier=back", 2), ("missing!=x", 7),
        ])
    func labelSelectors(selector: String, expected: Int) async throws {
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let encoded = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? selector
            let list = try await sim.getJSON("/api/v1/namespaces/b-ns/configmaps?labelSelector=\(encoded)")
            #expect(list.itemNames.count == expected, "\(selector): \(list.itemNames)")
        }
    }

    @Test("field selectors on metadata.name and metadata.namespace; bad selectors are 400")
    func fieldSelectors() async throws {
        try await SimHarness.with { sim in
            try await Self.populate(sim)
            let byName = try await sim.getJSON("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-3")
            #expect(byName.itemNames == ["cm-3", "cm-3", "cm-3"])
            let notA = try await sim.getJSON("/api/v1/configmaps?fieldSelector=metadata.namespace!%3Da-ns")
            #expect(notA.itemNames.count == 14)
            let both = "metadata.namespace%3Dc-ns,metadata.name!%3Dcm-0"
            #expect(try await sim.getJSON("/api/v1/configmaps?fieldSelector=\(both)").itemNames.count == 6)
            let paged = try await sim.getJSON("/api/v1/configmaps?limit=2&labelSelector=tier%3Dback")
            #expect(paged.itemNames == ["cm-1", "cm-3"])
            #expect(paged["metadata"]?["remainingItemCount"] == nil, "no count with a selector, like the real server")
            try await sim.get("/api/v1/configmaps?fieldSelector=spec.foo%3Dx").expectStatus(400, reason: "BadRequest")
            try await sim.get("/api/v1/configmaps?labelSelector=a%20in%20x").expectStatus(400, reason: "BadRequest")
        }
    }
}
