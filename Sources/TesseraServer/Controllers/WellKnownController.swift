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

/// Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): every field lists exactly what
/// works in this build, and nothing else.
struct DiscoveryDocument: Encodable {
    let issuer: String
    let authorizationEndpoint: String
    let tokenEndpoint: String
    let userinfoEndpoint: String
    let jwksURI: String
    let revocationEndpoint: String
    let introspectionEndpoint: String
    let endSessionEndpoint: String
    let scopesSupported = [Scope.openID, Scope.email, Scope.profile, Scope.offlineAccess, Scope.account, Scope.groups]
    let responseTypesSupported = ["code"]
    let responseModesSupported = ["query"]
    let grantTypesSupported = GrantType.allCases.map(\.rawValue)
    let subjectTypesSupported = ["public"]
    let idTokenSigningAlgValuesSupported = ["RS256"]
    let tokenEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    let revocationEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    let introspectionEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post"]
    let codeChallengeMethodsSupported = [PKCE.method]
    let promptValuesSupported = AuthorizationRequest.promptValues
    let claimsSupported = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "email_verified", "updated_at", "groups"]
        + UserInfoController.profileClaims
    let authorizationResponseIssParameterSupported = true
    let claimsParameterSupported = false
    let requestParameterSupported = false
    let requestURIParameterSupported = false

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case userinfoEndpoint = "userinfo_endpoint"
        case jwksURI = "jwks_uri"
        case revocationEndpoint = "revocation_endpoint"
        case introspectionEndpoint = "introspection_endpoint"
        case endSessionEndpoint = "end_session_endpoint"
        case scopesSupported = "scopes_supported"
        case responseTypesSupported = "response_types_supported"
        case responseModesSupported = "response_modes_supported"
        case grantTypesSupported = "grant_types_supported"
        case subjectTypesSupported = "subject_types_supported"
        case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
        case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case promptValuesSupported = "prompt_values_supported"
        case claimsSupported = "claims_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
        case claimsParameterSupported = "claims_parameter_supported"
        case requestParameterSupported = "request_parameter_supported"
        case requestURIParameterSupported = "request_uri_parameter_supported"
    }

    init(settings: Settings) {
        issuer = settings.issuer
        authorizationEndpoint = settings.url(AuthorizeController.path)
        tokenEndpoint = settings.url(TokenController.path)
        userinfoEndpoint = settings.url(UserInfoController.path)
        jwksURI = settings.url(WellKnownController.jwksPath)
        revocationEndpoint = settings.url(IntrospectionController.revocationPath)
        introspectionEndpoint = settings.url(IntrospectionController.introspectionPath)
        endSessionEndpoint = settings.url(AuthorizeController.logoutPath)
    }

    func published() -> PublishedDocument {
        // Encoding a struct of strings cannot fail.
        PublishedDocument(body: try! JSONResponse.encoder.encode(self))
    }
}
