import Foundation
import Hummingbird
import Testing
@testable import TesseraServer

/// Contract §12.3: `/openapi.json` describes every JSON endpoint the router has, and nothing
/// the router lacks.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// Routes that are not JSON endpoints: the HTML pages of the authorization code flow.
    static let pages: Set<String> = [
        "/oauth2/authorize", "/oauth2/signup", "/oauth2/verify", "/oauth2/recover", "/oauth2/logout",
    ]

    @Test("its paths and methods are exactly the router's JSON routes")
    func pathsMatchTheRouter() async throws {
        let server = try await TestServer()
        let router = buildRouter(dependencies: server.dependencies)
        let routed = Set(router.routes.compactMap { route -> String? in
            let path = route.path.description.replacingOccurrences(of: ":email", with: "{email}")
            guard route.method != .head, !Self.pages.contains(path) else { return nil }
            return "\(route.method.rawValue.lowercased()) \(path)"
        })
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIController.json(issuer: "https://id.example.test")) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.filter { $0 != "parameters" }.map { "\($0) \(path)" } })
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from openapi.yaml")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations no route serves")
        #expect(document["openapi"] as? String == "3.1.0")
        #expect((document["servers"] as? [[String: String]])?.first?["url"] == "https://id.example.test")
    }

    @Test("every operation documents its statuses and has an id")
    func operationsAreComplete() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIController.json(issuer: "https://x.test")) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var ids: [String] = []
        for (path, operations) in paths {
            for (method, value) in operations where method != "parameters" {
                let operation = try #require(value as? [String: Any], "\(method) \(path)")
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
                #expect(!responses.isEmpty && responses.keys.allSatisfy { Int($0) != nil }, "\(method) \(path)")
                ids.append(try #require(operation["operationId"] as? String, "\(method) \(path)"))
            }
        }
        #expect(Set(ids).count == ids.count)
    }

    /// The document's paths, and its parameters with each `$ref` to a shared one followed.
    struct Parameters {
        let paths: [String: [String: Any]]
        let shared: [String: [String: Any]]

        init() throws {
            let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIController.json(issuer: "https://x.test")) as? [String: Any])
            paths = try #require(document["paths"] as? [String: [String: Any]])
            shared = try #require((document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]])
        }

        /// A `parameters` list's entries, each resolved.
        func resolved(_ parameters: Any?) -> [[String: Any]] {
            (parameters as? [[String: Any]] ?? []).compactMap { parameter in
                guard let reference = parameter["$ref"] as? String else { return parameter }
                return shared[String(reference.split(separator: "/").last ?? "")]
            }
        }
    }

    /// The stateful fuzzing of §12.3 follows the document's links: one that names a missing
    /// operation or parameter would silently test nothing.
    @Test("every link names an operation and parameters that operation has")
    func linksAreTrue() throws {
        let document = try Parameters()
        var parametersByOperation: [String: Set<String>] = [:]
        var links: [(source: String, name: String, link: [String: Any])] = []
        for (path, item) in document.paths {
            for (method, value) in item where method != "parameters" {
                let operation = try #require(value as? [String: Any])
                let id = try #require(operation["operationId"] as? String)
                let declared = document.resolved(item["parameters"]) + document.resolved(operation["parameters"])
                parametersByOperation[id] = Set(declared.compactMap { $0["name"] as? String })
                for (_, response) in operation["responses"] as? [String: [String: Any]] ?? [:] {
                    for (name, link) in response["links"] as? [String: [String: Any]] ?? [:] {
                        links.append(("\(method) \(path)", name, link))
                    }
                }
            }
        }
        #expect(links.count >= 20)
        for (source, name, link) in links {
            let target = try #require(link["operationId"] as? String, "\(source) → \(name)")
            let known = try #require(parametersByOperation[target], "\(source) → \(name): no operation \(target)")
            let given = Set((link["parameters"] as? [String: String] ?? [:]).keys)
            #expect(given.isSubset(of: known), "\(source) → \(name): \(given.subtracting(known).sorted())")
            #expect((link["parameters"] as? [String: String] ?? [:]).values.allSatisfy { $0.hasPrefix("$response.body#/") })
        }
    }

    /// An empty segment is no identifier: `GET /admin/v1/clients/` is the router's list of
    /// clients (it ignores a trailing slash), not `GET /admin/v1/clients/{client}` with "".
    @Test("every path parameter is at least one character")
    func pathParametersAreNotEmpty() throws {
        let document = try Parameters()
        var checked = 0
        for (path, item) in document.paths {
            let operations = item.filter { $0.key != "parameters" }.values.compactMap { $0 as? [String: Any] }
            let declared = ([item["parameters"]] + operations.map { $0["parameters"] }).flatMap(document.resolved)
            for parameter in declared where parameter["in"] as? String == "path" {
                let schema = try #require(parameter["schema"] as? [String: Any], "\(path)")
                #expect((schema["minLength"] as? Int ?? 0) >= 1, "\(path): \(parameter["name"] ?? "?")")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }
}
