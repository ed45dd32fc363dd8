import Foundation
import Hummingbird
import TesseraCore
import Yams

/// `GET /openapi.json` (contract §12.3): the OpenAPI 3.1 document of the HTTP API, written in
/// YAML beside this file, served as JSON with `servers` set to the issuer. Encoded once.
struct OpenAPIController {
    let document: PublishedDocument

    init(issuer: String) {
        document = PublishedDocument(body: Self.json(issuer: issuer))
    }

    /// The document as JSON bytes, keys sorted.
    static func json(issuer: String) -> Data {
        let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        // The document is part of the build: one that does not parse is a build error caught by
        // the tests, never a request's.
        guard var document = try! Yams.load(yaml: yaml) as? [String: Any] else { fatalError("openapi.yaml is not a mapping") }
        document["servers"] = [["url": issuer]]
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return data
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/openapi.json") { request, _ in
            document.response(to: request, maxAge: 300)
        }
    }
}
