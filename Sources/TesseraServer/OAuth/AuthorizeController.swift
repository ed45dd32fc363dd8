import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// The authorization endpoint, `GET` and `POST /oauth2/authorize` (RFC 6749 §4.1, PKCE, OIDC
/// `prompt`/`max_age`/`nonce`/`id_token_hint`), the hosted login form and consent page that post
/// back to it, and `GET`/`POST /oauth2/logout` (OIDC RP-Initiated Logout 1.0).
///
/// Cookies carry the `__Host-` prefix (Secure, `Path=/`, no `Domain`), so a sibling subdomain
/// cannot plant them.
struct AuthorizeController {
    static let path = "/oauth2/authorize"
    static let logoutPath = "/oauth2/logout"
    static let sessionCookie = "__Host-tessera_session"
    static let csrfCookie = "__Host-tessera_csrf"

    let authorization: AuthorizationService
    let accounts: AccountService
    /// Verification and recovery, for the hosted sign-up, code and recovery pages.
    let lifecycle: LifecycleService
    let keys: any TokenVerifier
    let settings: Settings
    let crypto: any CryptoPrimitives

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get(RouterPath(Self.path), use: authorize)
        router.post(RouterPath(Self.path), use: authorizeByPost)
        router.get(RouterPath(Self.logoutPath), use: logout)
        router.post(RouterPath(Self.logoutPath), use: logout)
        addAccountPageRoutes(to: router)
    }

    // MARK: Authorization

    /// `GET`: the request in the query.
    @Sendable func authorize(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard let parameters = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
        return try await authorize(parameters, request: request)
    }

    /// `POST`: an authorization request sent as a form (OIDC Core §3.1.2.1), or one of
    /// Tessera's own pages posting back (they carry `csrf_token`): the login form or the
    /// consent page.
    @Sendable func authorizeByPost(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        var parameters: [String: String]
        do {
            parameters = try await FormBody.parameters(of: request, context: context)
        } catch {
            return HTMLPage.error("The request could not be read.")
        }
        guard let csrf = parameters.removeValue(forKey: "csrf_token") else { return try await authorize(parameters, request: request) }
        if let answer = parameters.removeValue(forKey: "consent") {
            return try await submitConsent(answer, csrf: csrf, parameters: parameters, request: request)
        }
        return try await submitLogin(parameters, csrf: csrf, request: request, context: context)
    }

    private func authorize(_ parameters: [String: String], request: Request) async throws -> Response {
        let authorizationRequest: AuthorizationRequest
        do {
            authorizationRequest = try await validate(parameters)
        } catch let failure as AuthorizationRequest.Failure {
            return respond(to: failure)
        }
        if let session = try await authorization.session(cookie: request.cookies[Self.sessionCookie]?.value),
           authorization.sessionSatisfies(authorizationRequest, authTime: session.authTime, user: session.user) {
            return try await grant(authorizationRequest, user: session.user, authTime: session.authTime, sessionID: session.id)
        }
        if authorizationRequest.prompt.contains("none") {
            let reason = authorizationRequest.hintedSubject == nil ? "the user is not signed in" : "the id_token_hint's user is not signed in"
            return fail(authorizationRequest, OAuthError(.loginRequired, reason))
        }
        return loginForm(authorizationRequest, email: parameters["login_hint"], error: nil)
    }

    /// The signed-in user goes on: to the consent page when `prompt=consent` asks for it,
    /// else straight back to the client with a code.
    func grant(_ request: AuthorizationRequest, user: User, authTime: Date, sessionID: String) async throws -> Response {
        if request.prompt.contains("consent") { return consentPage(request) }
        return redirect(to: try await authorization.issueCode(for: request, user: user, authTime: authTime, sessionID: sessionID))
    }

    private func submitLogin(_ form: [String: String], csrf: String, request: Request, context: TesseraRequestContext) async throws -> Response {
        var parameters = form
        let email = parameters.removeValue(forKey: "email") ?? ""
        let password = parameters.removeValue(forKey: "password") ?? ""
        let authorizationRequest: AuthorizationRequest
        do {
            authorizationRequest = try await validate(parameters)
        } catch let failure as AuthorizationRequest.Failure {
            return respond(to: failure)
        }
        guard csrfMatches(csrf, request) else {
            return loginForm(authorizationRequest, email: email, error: "Your sign-in form expired. Please try again.", status: .forbidden)
        }
        let user: User
        do {
            // Shed as /v1/login does while the password pool is full, but after the form was
            // read: the page comes back with the user's request and email kept.
            try accounts.shedLoginIfBusy()
            user = try await accounts.verifyPassword(email: email, password: password, clientIP: context.clientIP)
        } catch AccountError.userUnconfirmed {
            // The password was right: the verification step, with a new code mailed.
            return try await verificationStep(email: email, authorizationRequest, clientIP: context.clientIP)
        } catch let error as AccountError {
            let (message, status): (String, HTTPResponse.Status) = switch error {
            case .tooManyAttempts: ("Too many sign-in attempts. Please wait and try again.", .tooManyRequests)
            case .busy: ("The service is busy. Please try again in a moment.", .serviceUnavailable)
            case .userDisabled: ("This account is disabled.", .forbidden)
            case .passwordChangeRequired, .passwordResetRequired: ("This password must be changed first: use \"Forgot password\".", .forbidden)
            default: ("Email or password is incorrect.", .unauthorized)
            }
            var response = loginForm(authorizationRequest, email: email, error: message, status: status)
            if case .busy(let retryAfter) = error { response.headers[.retryAfter] = String(retryAfter) }
            return response
        }
        return try await signedIn(user, authorizationRequest)
    }

    /// Starts an SSO session for `user` and goes on with the request: consent, or a code for
    /// the client, or `login_required` when the request's `id_token_hint` named someone else.
    func signedIn(_ user: User, _ authorizationRequest: AuthorizationRequest) async throws -> Response {
        let authTime = accounts.now()
        let session = try await authorization.startSession(user: user, authTime: authTime)
        var response: Response
        if let hinted = authorizationRequest.hintedSubject, hinted != user.id {
            // OIDC Core §3.1.2.1: the request named another user than the one who signed in.
            response = fail(authorizationRequest, OAuthError(.loginRequired, "the user who signed in is not the id_token_hint's user"))
        } else {
            response = try await grant(authorizationRequest, user: user, authTime: authTime, sessionID: session.id)
        }
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, session.cookie, maxAge: Int(settings.sessionTTL), sameSite: "Lax")))
        if response.status == .seeOther {
            response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, "", maxAge: 0, sameSite: "Strict")))
        }
        return response
    }

    /// The consent page's answer: `allow` issues the code, anything else is `access_denied`.
    private func submitConsent(_ answer: String, csrf: String, parameters: [String: String], request: Request) async throws -> Response {
        let authorizationRequest: AuthorizationRequest
        do {
            authorizationRequest = try await validate(parameters)
        } catch let failure as AuthorizationRequest.Failure {
            return respond(to: failure)
        }
        guard csrfMatches(csrf, request) else { return HTMLPage.error("The page expired. Go back to the application and try again.", status: .forbidden) }
        guard let session = try await authorization.session(cookie: request.cookies[Self.sessionCookie]?.value),
              authorizationRequest.hintedSubject.map({ $0 == session.user.id }) ?? true
        else {
            return loginForm(authorizationRequest, email: nil, error: "Please sign in again.")
        }
        var response: Response
        if answer == "allow" {
            response = redirect(to: try await authorization.issueCode(
                for: authorizationRequest, user: session.user, authTime: session.authTime, sessionID: session.id))
        } else {
            response = fail(authorizationRequest, OAuthError(.accessDenied, "the user declined"))
        }
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, "", maxAge: 0, sameSite: "Strict")))
        return response
    }

    /// Validates the request, and its `id_token_hint` (an ID token Tessera signed, for any
    /// client, expired or not) into ``AuthorizationRequest/hintedSubject``.
    func validate(_ parameters: [String: String]) async throws -> AuthorizationRequest {
        var validated = try await AuthorizationRequest.validate(parameters, clients: accounts.clients)
        if let hint = parameters["id_token_hint"] {
            guard let claims = verifiedHint(hint) else {
                throw AuthorizationRequest.Failure.redirect(
                    OAuthError.invalidRequest("id_token_hint is not an ID token of this issuer"), redirectURI: validated.redirectURI, state: validated.state)
            }
            validated.hintedSubject = claims.sub
        }
        return validated
    }

    // MARK: Logout

    /// RP-Initiated Logout (GET or POST). With a valid `id_token_hint` for the signed-in user,
    /// or with nobody signed in, it ends the session at once; otherwise it asks the user to
    /// confirm on a page whose form (CSRF-protected) posts back here. Afterwards it redirects
    /// to a registered `post_logout_redirect_uri` (with `state`) of the client named by
    /// `id_token_hint` or `client_id`, or shows a signed-out page.
    @Sendable func logout(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        var parameters: [String: String]
        if request.method == .post {
            guard let form = try? await FormBody.parameters(of: request, context: context) else { return HTMLPage.error("The sign-out request could not be read.") }
            parameters = form
        } else {
            guard let query = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
            parameters = query
        }
        let csrf = parameters.removeValue(forKey: "csrf_token")
        var clientID = parameters["client_id"]
        var hintedSubject: String?
        if let hint = parameters["id_token_hint"] {
            guard let claims = verifiedHint(hint) else { return HTMLPage.error("The sign-out request carries an invalid id_token_hint.") }
            guard let audience = claims.aud.values.first, clientID == nil || clientID == audience else {
                return HTMLPage.error("The sign-out request names two different applications.")
            }
            clientID = audience
            hintedSubject = claims.sub
        }
        var location: String?
        if let target = parameters["post_logout_redirect_uri"] {
            guard let clientID, let client = try await accounts.clients.client(id: clientID), client.postLogoutRedirectURIs.contains(target) else {
                return HTMLPage.error("The address to return to after sign-out is not registered for this application.")
            }
            location = parameters["state"].map { AuthorizationRequest.append([("state", $0)], to: target) } ?? target
        }
        let cookie = request.cookies[Self.sessionCookie]?.value
        if let session = try await authorization.session(cookie: cookie), hintedSubject != session.user.id {
            if let csrf {
                guard csrfMatches(csrf, request) else { return HTMLPage.error("The sign-out page expired. Please try again.", status: .forbidden) }
            } else {
                return confirmLogout(parameters, returnTo: location)
            }
        }
        try await authorization.endSession(cookie: cookie)
        var response = location.map(redirect(to:)) ?? HTMLPage.signedOut()
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", maxAge: 0, sameSite: "Lax")))
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, "", maxAge: 0, sameSite: "Strict")))
        return response
    }

    /// The ID token in an `id_token_hint`: signed by Tessera, its issuer, any audience, any age.
    private func verifiedHint(_ hint: String) -> IDTokenClaims? {
        let expectations = TokenExpectations(type: IDTokenClaims.type, issuer: settings.issuer, audiences: nil, leeway: 10 * 365 * 86400, now: accounts.now())
        return try? keys.verify(hint, as: IDTokenClaims.self, expecting: expectations)
    }

    // MARK: Helpers

    func respond(to failure: AuthorizationRequest.Failure) -> Response {
        switch failure {
        case .errorPage(let message):
            return HTMLPage.error(message)
        case .redirect(let error, let redirectURI, let state):
            return redirect(to: AuthorizationRequest.errorRedirect(error, redirectURI: redirectURI, state: state, issuer: settings.issuer))
        }
    }

    func loginForm(_ request: AuthorizationRequest, email: String?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        withCSRF { HTMLPage.login(request: request, csrf: $0, email: email, error: error, hostedSignup: settings.hostedSignup, status: status) }
    }

    private func consentPage(_ request: AuthorizationRequest) -> Response {
        withCSRF { HTMLPage.consent(request: request, csrf: $0) }
    }

    private func confirmLogout(_ parameters: [String: String], returnTo: String?) -> Response {
        withCSRF { HTMLPage.confirmLogout(parameters: parameters, csrf: $0, returnTo: returnTo) }
    }

    /// A page with a form carrying a fresh CSRF token, and the double-submit cookie holding it.
    func withCSRF(_ page: (String) -> Response) -> Response {
        let csrf = Base64URL.encode(crypto.randomBytes(32))
        var response = page(csrf)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.csrfCookie, csrf, maxAge: 3600, sameSite: "Strict")))
        return response
    }

    /// Whether the form's token is the one in the CSRF cookie (compared in constant time).
    func csrfMatches(_ presented: String, _ request: Request) -> Bool {
        guard let expected = request.cookies[Self.csrfCookie]?.value, !presented.isEmpty else { return false }
        return constantTimeEquals(Array(expected.utf8), Array(presented.utf8))
    }

    /// An error sent back to the client's (validated) redirect URI.
    func fail(_ request: AuthorizationRequest, _ error: OAuthError) -> Response {
        redirect(to: AuthorizationRequest.errorRedirect(error, redirectURI: request.redirectURI, state: request.state, issuer: settings.issuer))
    }

    /// 303 See Other, so a POSTed form becomes a GET at the client.
    func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Query parameters; nil when one is repeated or malformed (RFC 6749 §3.1).
    func queryParameters(_ request: Request) -> [String: String]? {
        try? FormBody.parse(request.uri.query ?? "")
    }

    /// A `__Host-` cookie: Secure, `Path=/`, no `Domain` (RFC 6265bis §4.1.3.2).
    static func cookie(_ name: String, _ value: String, maxAge: Int, sameSite: String) -> String {
        "\(name)=\(value); Max-Age=\(maxAge); Path=/; HttpOnly; Secure; SameSite=\(sameSite)"
    }
}
