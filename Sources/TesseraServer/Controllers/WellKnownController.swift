import Foundation
import Hummingbird
import TesseraCore

/// The provider metadata (OIDC Discovery 1.0, RFC 8414) and the JWKS (RFC 7517).
struct WellKnownController {
    static let discoveryPaths = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
    static let jwksPath = "/.well-known/jwks.json"
    /// Discovery changes only with a new release or configuration.
    static let discoveryMaxAge = 3600
    /// Short enough that a rotated key reaches verifiers that do not refetch on an unknown kid.
    static let jwksMaxAge = 300

    let dependencies: Dependencies
    /// Built once: the document only changes with the configuration.
    let discovery: PublishedDocument

    init(dependencies: Dependencies) {
        self.dependencies = dependencies
        self.discovery = DiscoveryDocument(settings: dependencies.settings).published()
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        for path in Self.discoveryPaths {
            router.get(RouterPath(path)) { request, _ in
                discovery.response(to: request, maxAge: Self.discoveryMaxAge)
            }
        }
        router.get(RouterPath(Self.jwksPath)) { request, _ in
            dependencies.keys.jwks().response(to: request, maxAge: Self.jwksMaxAge)
        }
    }
}

/// Provider metadata: every field lists only what works in this build.
struct DiscoveryDocument: Encodable {
    let issuer: String
    let jwksURI: String

    enum CodingKeys: String, CodingKey {
        case issuer
        case jwksURI = "jwks_uri"
    }

    init(settings: Settings) {
        issuer = settings.issuer
        jwksURI = settings.url(WellKnownController.jwksPath)
    }

    func published() -> PublishedDocument {
        // Encoding a struct of strings cannot fail.
        PublishedDocument(body: try! JSONResponse.encoder.encode(self))
    }
}
