import Foundation

/// Mints access and ID tokens for a user and a client.
public struct TokenIssuer: Sendable {
    let settings: Settings
    let signer: any TokenSigner
    let crypto: any CryptoPrimitives

    public init(settings: Settings, signer: any TokenSigner, crypto: any CryptoPrimitives) {
        self.settings = settings
        self.signer = signer
        self.crypto = crypto
    }

    /// Signs an access token and, when `scope` has `openid`, an ID token for `user`. `groups`
    /// (the user's, read when the scope holds `groups`) goes into both.
    public func issue(
        user: User, clientID: String, audience: String, scope: Scope, authTime: Date, nonce: String? = nil, jti: String? = nil,
        lifetime requestedLifetime: TimeInterval? = nil, groups: [String]? = nil, now: Date
    ) throws -> IssuedTokens {
        let iat = now.epochSeconds
        let lifetime = Int(requestedLifetime ?? settings.accessTokenTTL)
        let access = AccessTokenClaims(
            iss: settings.issuer, sub: user.id, aud: .one(audience), exp: iat + lifetime, iat: iat,
            jti: jti ?? RandomIdentifier.make(using: crypto), clientID: clientID, scope: scope.description,
            authTime: authTime.epochSeconds, groups: groups)
        let accessToken = try signer.sign(access, type: AccessTokenClaims.type)
        var idToken: String?
        if scope.contains(Scope.openID) {
            let withEmail = scope.contains(Scope.email)
            let claims = IDTokenClaims(
                iss: settings.issuer, sub: user.id, aud: .one(clientID), exp: iat + lifetime, iat: iat, nbf: nil,
                authTime: authTime.epochSeconds, nonce: nonce, atHash: atHash(accessToken),
                email: withEmail ? user.email : nil, emailVerified: withEmail ? user.emailVerified : nil, groups: groups)
            idToken = try signer.sign(claims, type: IDTokenClaims.type)
        }
        return IssuedTokens(accessToken: accessToken, accessClaims: access, expiresIn: lifetime, idToken: idToken)
    }

    /// Signs an access token for a client acting on its own behalf (`client_credentials`):
    /// `sub` is the client id; no ID token, no refresh token.
    public func issueForClient(clientID: String, audience: String, scope: Scope, lifetime requestedLifetime: TimeInterval? = nil, now: Date) throws -> IssuedTokens {
        let iat = now.epochSeconds
        let lifetime = Int(requestedLifetime ?? settings.accessTokenTTL)
        let claims = AccessTokenClaims(
            iss: settings.issuer, sub: clientID, aud: .one(audience), exp: iat + lifetime, iat: iat,
            jti: RandomIdentifier.make(using: crypto), clientID: clientID, scope: scope.description, authTime: nil)
        return IssuedTokens(accessToken: try signer.sign(claims, type: AccessTokenClaims.type), accessClaims: claims, expiresIn: lifetime)
    }

    /// OIDC Core §3.1.3.6: base64url of the left-most half of the SHA-256 of the token's ASCII.
    public func atHash(_ accessToken: String) -> String {
        Base64URL.encode(crypto.sha256(Array(accessToken.utf8)).prefix(16))
    }
}
