import Foundation

/// A validated authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1).
public struct AuthorizationRequest: Sendable, Equatable {
    public var client: Client
    public var redirectURI: String
    public var scope: Scope
    public var state: String?
    public var nonce: String?
    public var codeChallenge: String?
    public var prompt: Set<String>
    public var maxAge: Int?
    /// The `sub` of a valid `id_token_hint`: only that user's session may answer the request.
    /// Set by the caller that verified the hint (it needs the signing keys).
    public var hintedSubject: String?

    /// The parameters to carry through the login form, as received.
    public var parameters: [String: String]

    /// What went wrong, and where it may be told.
    public enum Failure: Error, Equatable {
        /// Before `client_id` and `redirect_uri` are trusted: shown on an error page, never redirected.
        case errorPage(String)
        /// After: sent back to the client's redirect URI with `error`, `error_description` and `state`.
        case redirect(OAuthError, redirectURI: String, state: String?)
    }

    static let parameterNames: Set<String> = [
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
        "code_challenge_method", "prompt", "max_age", "login_hint", "ui_locales", "display", "response_mode", "id_token_hint",
    ]

    /// The `prompt` values implemented (OIDC Core §3.1.2.1): `none` (no UI: an error unless a
    /// session answers), `login` and `select_account` (the sign-in form, whatever session there
    /// is: the user signs in with the account of their choice), `consent` (the consent page).
    public static let promptValues = ["none", "login", "consent", "select_account"]

    /// Validates `parameters` against the registry, in the order RFC 6749 §4.1.2.1 requires.
    public static func validate(_ parameters: [String: String], clients: ClientRegistry) async throws -> AuthorizationRequest {
        guard let clientID = parameters["client_id"], let client = try await clients.client(id: clientID), client.id != FirstPartyClient.id else {
            throw Failure.errorPage("The application is not known (missing or unregistered client_id).")
        }
        let redirectURI: String
        if let given = parameters["redirect_uri"] {
            guard client.redirectURIs.contains(where: { Self.redirectURI(given, matches: $0) }) else {
                throw Failure.errorPage("The redirect URI is not registered for this application.")
            }
            redirectURI = given
        } else {
            guard client.redirectURIs.count == 1 else {
                throw Failure.errorPage("The request must name one of the application's registered redirect URIs.")
            }
            redirectURI = client.redirectURIs[0]
        }
        let state = parameters["state"]
        func fail(_ code: OAuthError.Code, _ description: String) -> Failure {
            .redirect(OAuthError(code, description), redirectURI: redirectURI, state: state)
        }
        guard client.grants.contains(.authorizationCode) else {
            throw fail(.unauthorizedClient, "the client is not registered for the authorization code flow")
        }
        guard let responseType = parameters["response_type"] else { throw fail(.invalidRequest, "response_type is required") }
        guard responseType == "code" else { throw fail(.unsupportedResponseType, "only response_type=code is supported") }
        if let mode = parameters["response_mode"], mode != "query" { throw fail(.invalidRequest, "only response_mode=query is supported") }
        guard let scope = Scope(parsing: parameters["scope"] ?? client.defaultScope.description) else { throw fail(.invalidScope, "malformed scope") }
        guard scope.isSubset(of: client.userScope) else { throw fail(.invalidScope, "scope exceeds what the client may request") }

        let challenge = parameters["code_challenge"]
        let method = parameters["code_challenge_method"]
        if let challenge {
            guard method == PKCE.method else { throw fail(.invalidRequest, "code_challenge_method must be S256") }
            guard PKCE.isWellFormed(challenge) else { throw fail(.invalidRequest, "malformed code_challenge") }
        } else {
            guard method == nil else { throw fail(.invalidRequest, "code_challenge_method without code_challenge") }
            guard !client.isPublic else { throw fail(.invalidRequest, "public clients must use PKCE (code_challenge with S256)") }
        }
        let prompt = Set((parameters["prompt"] ?? "").split(separator: " ").map(String.init))
        guard prompt.isSubset(of: promptValues) else { throw fail(.invalidRequest, "unsupported prompt value") }
        guard !(prompt.contains("none") && prompt.count > 1) else { throw fail(.invalidRequest, "prompt=none cannot be combined") }
        var maxAge: Int?
        if let text = parameters["max_age"] {
            guard let value = Int(text), value >= 0 else { throw fail(.invalidRequest, "max_age must be a non-negative integer") }
            maxAge = value
        }
        return AuthorizationRequest(
            client: client, redirectURI: redirectURI, scope: scope, state: state, nonce: parameters["nonce"],
            codeChallenge: challenge, prompt: prompt, maxAge: maxAge,
            parameters: parameters.filter { parameterNames.contains($0.key) })
    }

    /// Whether a requested redirect URI matches a registered one: exactly (RFC 9700 §2.1), except
    /// that an `http` loopback IP literal (`127.0.0.1`, `[::1]`) matches on any port, as native
    /// apps listen on an ephemeral one (RFC 8252 §7.3). `localhost` is not an IP literal and
    /// must match exactly (RFC 8252 §8.3).
    public static func redirectURI(_ requested: String, matches registered: String) -> Bool {
        if requested == registered { return true }
        guard let given = URLComponents(string: requested), let known = URLComponents(string: registered),
              given.scheme == "http", known.scheme == "http", given.user == nil, given.password == nil,
              known.user == nil, known.password == nil, let host = known.host, ["127.0.0.1", "[::1]", "::1"].contains(host),
              given.host == host, given.fragment == nil
        else { return false }
        return given.percentEncodedPath == known.percentEncodedPath && given.percentEncodedQuery == known.percentEncodedQuery
    }

    /// `redirectURI` with `extra` query parameters appended (keeping any it already has), plus
    /// `state` and `iss` (RFC 9207).
    public func redirect(with extra: [(String, String)], issuer: String) -> String {
        Self.response(extra, redirectURI: redirectURI, state: state, issuer: issuer)
    }

    /// `uri` with `items` appended to its query, percent-encoded.
    public static func append(_ items: [(String, String)], to uri: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    /// An error redirect (RFC 6749 §4.1.2.1).
    public static func errorRedirect(_ error: OAuthError, redirectURI: String, state: String?, issuer: String) -> String {
        response([("error", error.code.rawValue), ("error_description", error.description)], redirectURI: redirectURI, state: state, issuer: issuer)
    }

    /// An authorization response: `items`, then `state` (when the request had one) and `iss`.
    private static func response(_ items: [(String, String)], redirectURI: String, state: String?, issuer: String) -> String {
        var items = items
        if let state { items.append(("state", state)) }
        items.append(("iss", issuer))
        return append(items, to: redirectURI)
    }
}
