import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// `GET /oauth2/authorize` (RFC 6749 §4.1, PKCE, OIDC `prompt`/`max_age`/`nonce`), the hosted
/// login form that posts back to it, and `GET /oauth2/logout` (OIDC RP-Initiated Logout).
struct AuthorizeController {
    static let path = "/oauth2/authorize"
    static let logoutPath = "/oauth2/logout"
    static let sessionCookie = "tessera_session"
    static let csrfCookie = "tessera_csrf"

    let authorization: AuthorizationService
    let accounts: AccountService
    let keys: any TokenVerifier
    let settings: Settings
    let crypto: any CryptoPrimitives

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get(RouterPath(Self.path), use: authorize)
        router.post(RouterPath(Self.path), use: submitLogin)
        router.get(RouterPath(Self.logoutPath), use: logout)
    }

    // MARK: Authorization

    @Sendable func authorize(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard let parameters = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
        let authorizationRequest: AuthorizationRequest
        do {
            authorizationRequest = try await AuthorizationRequest.validate(parameters, clients: accounts.clients)
        } catch let failure as AuthorizationRequest.Failure {
            return respond(to: failure)
        }
        if let session = try await authorization.session(cookie: request.cookies[Self.sessionCookie]?.value),
           authorization.sessionSatisfies(authorizationRequest, authTime: session.authTime) {
            let location = try await authorization.issueCode(for: authorizationRequest, user: session.user, authTime: session.authTime, sessionID: session.id)
            return redirect(to: location)
        }
        if authorizationRequest.prompt.contains("none") {
            return redirect(to: AuthorizationRequest.errorRedirect(
                OAuthError(.loginRequired, "the user is not signed in"), redirectURI: authorizationRequest.redirectURI,
                state: authorizationRequest.state, issuer: settings.issuer))
        }
        return loginForm(authorizationRequest, email: parameters["login_hint"], error: nil)
    }

    @Sendable func submitLogin(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        var parameters: [String: String]
        do {
            parameters = try await FormBody.parameters(of: request, context: context)
        } catch {
            return HTMLPage.error("The sign-in form could not be read.")
        }
        let email = parameters.removeValue(forKey: "email") ?? ""
        let password = parameters.removeValue(forKey: "password") ?? ""
        let csrf = parameters.removeValue(forKey: "csrf_token") ?? ""
        let authorizationRequest: AuthorizationRequest
        do {
            authorizationRequest = try await AuthorizationRequest.validate(parameters, clients: accounts.clients)
        } catch let failure as AuthorizationRequest.Failure {
            return respond(to: failure)
        }
        guard let expected = request.cookies[Self.csrfCookie]?.value, !csrf.isEmpty,
              constantTimeEquals(Array(expected.utf8), Array(csrf.utf8))
        else {
            return loginForm(authorizationRequest, email: email, error: "Your sign-in form expired. Please try again.", status: .forbidden)
        }
        let user: User
        do {
            // Shed as /v1/login does while the password pool is full, but after the form was
            // read: the page comes back with the user's request and email kept.
            try accounts.shedLoginIfBusy()
            user = try await accounts.verifyPassword(email: email, password: password, clientIP: context.clientIP)
        } catch let error as AccountError {
            let (message, status): (String, HTTPResponse.Status) = switch error {
            case .tooManyAttempts: ("Too many sign-in attempts. Please wait and try again.", .tooManyRequests)
            case .busy: ("The service is busy. Please try again in a moment.", .serviceUnavailable)
            case .userDisabled: ("This account is disabled.", .forbidden)
            case .userUnconfirmed: ("This account is not confirmed yet.", .forbidden)
            default: ("Email or password is incorrect.", .unauthorized)
            }
            var response = loginForm(authorizationRequest, email: email, error: message, status: status)
            if case .busy(let retryAfter) = error { response.headers[.retryAfter] = String(retryAfter) }
            return response
        }
        let authTime = accounts.now()
        let session = try await authorization.startSession(user: user, authTime: authTime)
        let location = try await authorization.issueCode(for: authorizationRequest, user: user, authTime: authTime, sessionID: session.id)
        var response = redirect(to: location)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, session.cookie, maxAge: Int(settings.sessionTTL), sameSite: "Lax")))
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, "", maxAge: 0, sameSite: "Strict")))
        return response
    }

    // MARK: Logout

    /// Ends the SSO session; redirects to a registered `post_logout_redirect_uri` (with `state`)
    /// of the client named by `id_token_hint` or `client_id`, else shows a signed-out page.
    @Sendable func logout(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard let parameters = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
        var clientID = parameters["client_id"]
        if let hint = parameters["id_token_hint"] {
            let expectations = TokenExpectations(type: IDTokenClaims.type, issuer: settings.issuer, audiences: nil, leeway: 10 * 365 * 86400, now: accounts.now())
            guard let claims = try? keys.verify(hint, as: IDTokenClaims.self, expecting: expectations) else {
                return HTMLPage.error("The sign-out request carries an invalid id_token_hint.")
            }
            guard let audience = claims.aud.values.first, clientID == nil || clientID == audience else {
                return HTMLPage.error("The sign-out request names two different applications.")
            }
            clientID = audience
        }
        var location: String?
        if let target = parameters["post_logout_redirect_uri"] {
            guard let clientID, let client = try await accounts.clients.client(id: clientID), client.postLogoutRedirectURIs.contains(target) else {
                return HTMLPage.error("The address to return to after sign-out is not registered for this application.")
            }
            location = parameters["state"].map { AuthorizationRequest.append([("state", $0)], to: target) } ?? target
        }
        try await authorization.endSession(cookie: request.cookies[Self.sessionCookie]?.value)
        var response = location.map(redirect(to:)) ?? HTMLPage.signedOut()
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", maxAge: 0, sameSite: "Lax")))
        return response
    }

    // MARK: Helpers

    private func respond(to failure: AuthorizationRequest.Failure) -> Response {
        switch failure {
        case .errorPage(let message):
            return HTMLPage.error(message)
        case .redirect(let error, let redirectURI, let state):
            return redirect(to: AuthorizationRequest.errorRedirect(error, redirectURI: redirectURI, state: state, issuer: settings.issuer))
        }
    }

    private func loginForm(_ request: AuthorizationRequest, email: String?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let csrf = Base64URL.encode(crypto.randomBytes(32))
        var response = HTMLPage.login(request: request, csrf: csrf, email: email, error: error, status: status)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, csrf, maxAge: 3600, sameSite: "Strict")))
        return response
    }

    /// 303 See Other, so a POSTed form becomes a GET at the client.
    private func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Query parameters; nil when one is repeated or malformed (RFC 6749 §3.1).
    private func queryParameters(_ request: Request) -> [String: String]? {
        try? FormBody.parse(request.uri.query ?? "")
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int, sameSite: String) -> String {
        "\(name)=\(value); Max-Age=\(maxAge); Path=/oauth2; HttpOnly; Secure; SameSite=\(sameSite)"
    }
}
