import Foundation
import Hummingbird
import Logging
import TesseraCore

/// `POST /oauth2/token` (RFC 6749 §3.2): authenticates the client, then runs the grant it
/// asked for, if it is registered for it.
struct TokenController {
    static let path = "/oauth2/token"
    /// Scopes about the user; a client acting for itself cannot have them.
    static let identityScopes: Set<String> = [Scope.openID, Scope.email, Scope.profile, Scope.offlineAccess, Scope.account, Scope.groups]

    let accounts: AccountService
    let authorization: AuthorizationService
    let now: Now

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.post(RouterPath(Self.path), use: token)
    }

    @Sendable func token(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let parameters = try await FormBody.parameters(of: request, context: context)
        let client = try await accounts.clients.authenticate(try ClientAuthentication.credentials(request, parameters: parameters))
        context.logger.debug("client authenticated", metadata: ["client.id": "\(client.id)"])
        guard let grantName = parameters["grant_type"] else { throw OAuthError.invalidRequest("grant_type is required") }
        guard let grant = GrantType(rawValue: grantName) else {
            throw OAuthError(.unsupportedGrantType, "grant_type \(grantName) is not supported")
        }
        guard client.grants.contains(grant) else {
            throw OAuthError(.unauthorizedClient, "the client is not registered for \(grantName)")
        }
        let tokens: IssuedTokens
        do {
            switch grant {
            case .clientCredentials:
                tokens = try clientCredentials(client: client, requested: parameters["scope"])
            case .password:
                guard let username = parameters["username"], let password = parameters["password"] else {
                    throw OAuthError.invalidRequest("username and password are required")
                }
                tokens = try await accounts.passwordGrant(
                    client: client, email: username, password: password, scope: parameters["scope"], clientIP: context.clientIP,
                    withRefreshToken: client.grants.contains(.refreshToken))
            case .refreshToken:
                guard let refreshToken = parameters["refresh_token"] else { throw OAuthError.invalidRequest("refresh_token is required") }
                tokens = try await accounts.refresh(refreshToken, client: client, scope: parameters["scope"])
            case .authorizationCode:
                guard let code = parameters["code"] else { throw OAuthError.invalidRequest("code is required") }
                tokens = try await authorization.redeem(
                    code: code, client: client, redirectURI: parameters["redirect_uri"], verifier: parameters["code_verifier"])
            }
        } catch let error as AccountError {
            throw OAuthError(error)
        }
        return JSONResponse.make(TokenResponse(tokens))
    }

    /// `client_credentials` (RFC 6749 §4.4): confidential clients only; API scopes only.
    private func clientCredentials(client: Client, requested: String?) throws -> IssuedTokens {
        guard !client.isPublic else { throw OAuthError(.unauthorizedClient, "a public client cannot use client_credentials") }
        let allowed = Scope(client.scope.tokens.filter { !Self.identityScopes.contains($0) })
        let scope: Scope
        if let requested {
            guard let parsed = Scope(parsing: requested), parsed.isSubset(of: allowed) else {
                throw OAuthError(.invalidScope, "scope exceeds what the client may request")
            }
            scope = parsed
        } else {
            scope = allowed
        }
        let tokens = try accounts.issuer.issueForClient(
            clientID: client.id, audience: accounts.clients.audience(for: client), scope: scope, lifetime: client.accessTokenTTL, now: now())
        accounts.metrics.tokensIssued(.clientCredentials)
        return tokens
    }
}
