import Foundation

/// The claims of a Tessera access token (RFC 9068 §2.2), header `typ: at+jwt`.
public struct AccessTokenClaims: RegisteredClaims, JSONObjectWritable, Equatable {
    public static let type = "at+jwt"

    public var iss: String
    /// The user id, or the client id for `client_credentials`.
    public var sub: String
    public var aud: Audience
    public var exp: Int
    public var iat: Int
    public var nbf: Int?
    public var jti: String
    public var clientID: String
    public var scope: String
    /// When the user authenticated (user tokens only).
    public var authTime: Int?
    /// The user's groups in precedence order, when the scope holds `groups` (contract §11.5).
    public var groups: [String]?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nbf, jti, scope, groups
        case clientID = "client_id"
        case authTime = "auth_time"
    }

    public init(
        iss: String, sub: String, aud: Audience, exp: Int, iat: Int, jti: String, clientID: String, scope: String, authTime: Int?,
        groups: [String]? = nil
    ) {
        self.groups = groups
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.nbf = nil
        self.jti = jti
        self.clientID = clientID
        self.scope = scope
        self.authTime = authTime
    }

    /// The members of ``CodingKeys``, as the token is signed on every grant.
    public func write(to writer: inout JSONObjectWriter) {
        writer.add("iss", iss)
        writer.add("sub", sub)
        writer.add("aud", aud)
        writer.add("exp", exp)
        writer.add("iat", iat)
        writer.add("nbf", nbf)
        writer.add("jti", jti)
        writer.add("client_id", clientID)
        writer.add("scope", scope)
        writer.add("auth_time", authTime)
        writer.add("groups", groups)
    }
}

/// The claims of an OpenID Connect ID token (OIDC Core §2, §3.1.3.6), header `typ: JWT`.
public struct IDTokenClaims: RegisteredClaims, Equatable {
    public static let type = "JWT"

    public var iss: String
    public var sub: String
    /// The client id.
    public var aud: Audience
    public var exp: Int
    public var iat: Int
    public var nbf: Int?
    public var authTime: Int
    public var nonce: String?
    /// Left half of the access token's SHA-256, base64url.
    public var atHash: String?
    public var email: String?
    public var emailVerified: Bool?
    /// The user's groups in precedence order, when the scope holds `groups`.
    public var groups: [String]?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nbf, nonce, email, groups
        case authTime = "auth_time"
        case atHash = "at_hash"
        case emailVerified = "email_verified"
    }
}

/// Tokens handed to a client after a login or a refresh.
public struct IssuedTokens: Sendable {
    public var accessToken: String
    public var accessClaims: AccessTokenClaims
    /// Seconds until the access token expires.
    public var expiresIn: Int
    public var refreshToken: RefreshToken?
    public var idToken: String?
    /// Absolute expiry of the refresh token's family.
    public var refreshExpiresAt: Date?

    public init(accessToken: String, accessClaims: AccessTokenClaims, expiresIn: Int, refreshToken: RefreshToken? = nil, idToken: String? = nil, refreshExpiresAt: Date? = nil) {
        self.accessToken = accessToken
        self.accessClaims = accessClaims
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.refreshExpiresAt = refreshExpiresAt
    }
}
