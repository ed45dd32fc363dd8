import Foundation

/// An RFC 7662 introspection response: `active`, and the token's claims when it is.
public struct IntrospectionResult: JSONObjectWritable, Sendable, Equatable {
    public var active: Bool
    public var scope: String?
    public var clientID: String?
    public var username: String?
    public var tokenType: String?
    public var exp: Int?
    public var iat: Int?
    public var nbf: Int?
    public var sub: String?
    public var aud: Audience?
    public var iss: String?
    public var jti: String?
    public var authTime: Int?

    public func write(to writer: inout JSONObjectWriter) {
        writer.add("active", active)
        writer.add("scope", scope)
        writer.add("client_id", clientID)
        writer.add("username", username)
        writer.add("token_type", tokenType)
        writer.add("exp", exp)
        writer.add("iat", iat)
        writer.add("nbf", nbf)
        writer.add("sub", sub)
        writer.add("aud", aud)
        writer.add("iss", iss)
        writer.add("jti", jti)
        writer.add("auth_time", authTime)
    }

    public static let inactive = IntrospectionResult(active: false)

    init(active: Bool) {
        self.active = active
    }
}

/// Token introspection (RFC 7662) and revocation (RFC 7009) for authenticated clients.
public struct TokenInspector: Sendable {
    let settings: Settings
    let store: any RefreshTokenStore & RevocationStore
    let accessTokens: AccessTokenValidator
    let crypto: any CryptoPrimitives
    let now: Now

    public init(settings: Settings, store: any RefreshTokenStore & RevocationStore, accessTokens: AccessTokenValidator, crypto: any CryptoPrimitives, now: @escaping Now) {
        self.settings = settings
        self.store = store
        self.accessTokens = accessTokens
        self.crypto = crypto
        self.now = now
    }

    /// `active: true` with the claims for a current access or refresh token issued by Tessera;
    /// `active: false` for anything else: expired, revoked, reused, malformed or foreign.
    public func introspect(_ token: String) async throws -> IntrospectionResult {
        if let refresh = RefreshToken(presented: token) {
            return try await introspect(refresh)
        }
        guard let validated = try? await accessTokens.validate(token, audience: nil) else { return .inactive }
        let claims = validated.claims
        var result = IntrospectionResult(active: true)
        result.scope = claims.scope
        result.clientID = claims.clientID
        result.username = Self.username(validated.user, scope: claims.scope)
        result.tokenType = "Bearer"
        result.exp = claims.exp
        result.iat = claims.iat
        result.nbf = claims.nbf
        result.sub = claims.sub
        result.aud = claims.aud
        result.iss = claims.iss
        result.jti = claims.jti
        result.authTime = claims.authTime
        return result
    }

    /// The user's email, only for a token whose scope holds `email` (contract §4): a client
    /// granted less learns no more by introspecting.
    private static func username(_ user: User?, scope: String) -> String? {
        guard Scope.text(scope, contains: Scope.email) else { return nil }
        return user?.email
    }

    private func introspect(_ token: RefreshToken) async throws -> IntrospectionResult {
        guard let standing = try await store.inspect(token.hash(using: crypto)),
              !standing.used, !standing.familyRevoked, standing.family.expiresAt > now(),
              let user = standing.user, user.status == .active
        else { return .inactive }
        var result = IntrospectionResult(active: true)
        result.scope = standing.family.scope
        result.clientID = standing.family.clientID
        result.username = Self.username(user, scope: standing.family.scope)
        result.tokenType = "refresh_token"
        result.exp = standing.family.expiresAt.epochSeconds
        result.iat = standing.issuedAt.epochSeconds
        result.sub = user.id
        result.iss = settings.issuer
        result.authTime = standing.family.authTime.epochSeconds
        return result
    }

    /// Revokes a token the client holds: a refresh token's whole family, or an access token by
    /// its `jti` until it expires. Tokens that are unknown, malformed or issued to another
    /// client are left alone, and the answer is the same (RFC 7009 §2.2).
    public func revoke(_ token: String, by client: Client) async throws {
        if let refresh = RefreshToken(presented: token) {
            let hash = refresh.hash(using: crypto)
            guard let family = try await store.family(containing: hash), family.clientID == client.id else { return }
            try await store.revokeFamily(containing: hash, reason: "revoked by client", now: now())
            return
        }
        guard let validated = try? await accessTokens.validate(token, audience: nil), validated.claims.clientID == client.id else { return }
        try await store.revokeAccessToken(
            jti: validated.claims.jti, expiresAt: Date(timeIntervalSince1970: TimeInterval(validated.claims.exp)), now: now())
    }
}
