import Atomics
import Foundation
import Hummingbird
import TesseraCore
import Yams

/// `GET /openapi.json` (contract §12.3): the OpenAPI 3.1 document of the HTTP API, written in
/// YAML beside this file, served as JSON with `servers` set to the issuer. Built on the first
/// request (the YAML parser's pages stay out of an idle server's memory), then served as is.
struct OpenAPIController {
    let issuer: String
    private let document = ManagedAtomicLazyReference<Box>()

    private final class Box: Sendable {
        let document: PublishedDocument
        init(_ document: PublishedDocument) { self.document = document }
    }

    init(issuer: String) {
        self.issuer = issuer
    }

    /// The document as JSON, keys sorted.
    static func json(issuer: String) -> Data {
        let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        // The document is part of the build: one that does not parse is a build error caught by
        // the tests, never a request's.
        guard var document = try! Yams.load(yaml: yaml) as? [String: Any] else { fatalError("openapi.yaml is not a mapping") }
        document["servers"] = [["url": issuer]]
        return try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/openapi.json") { request, _ in
            let box = document.load() ?? document.storeIfNilThenLoad(Box(PublishedDocument(body: Self.json(issuer: issuer))))
            return box.document.response(to: request, maxAge: 300)
        }
    }
}
