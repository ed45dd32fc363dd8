import Hummingbird
import TesseraCore

/// `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009), both for
/// authenticated clients.
struct IntrospectionController {
    static let introspectionPath = "/oauth2/introspect"
    static let revocationPath = "/oauth2/revoke"

    let clients: ClientRegistry
    let inspector: TokenInspector

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.post(RouterPath(Self.introspectionPath), use: introspect)
        router.post(RouterPath(Self.revocationPath), use: revoke)
    }

    /// Confidential clients only (resource servers): a public client id is no credential.
    @Sendable func introspect(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let parameters = try await FormBody.parameters(of: request, context: context)
        let client = try await clients.authenticate(try ClientAuthentication.credentials(request, parameters: parameters))
        guard !client.isPublic else { throw OAuthError.invalidClient(reason: "public clients cannot introspect") }
        guard let token = parameters["token"] else { throw OAuthError.invalidRequest("token is required") }
        return JSONResponse.make(try await inspector.introspect(token))
    }

    /// Any authenticated client; 200 whether or not the token was known.
    @Sendable func revoke(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let parameters = try await FormBody.parameters(of: request, context: context)
        let client = try await clients.authenticate(try ClientAuthentication.credentials(request, parameters: parameters))
        guard let token = parameters["token"] else { throw OAuthError.invalidRequest("token is required") }
        try await inspector.revoke(token, by: client)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }
}
