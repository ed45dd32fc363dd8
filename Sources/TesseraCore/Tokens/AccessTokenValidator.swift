import Foundation

/// What a valid access token stands for.
public struct ValidatedAccessToken: Sendable {
    public let claims: AccessTokenClaims
    /// The user for user tokens; nil for a client acting for itself (`client_credentials`).
    public let user: User?
}

/// Verifies Tessera's access tokens strictly (RS256, our `kid`, `typ: at+jwt`, `exp`/`nbf`
/// with leeway, `iss`, `aud` when given) and checks they were not revoked since: by `jti`,
/// by the user's "not before" (global sign-out), by the user being disabled or deleted, or by
/// the client being deleted.
public struct AccessTokenValidator: Sendable {
    let settings: Settings
    let verifier: any TokenVerifier
    let store: any RevocationStore
    let now: Now

    public init(settings: Settings, verifier: any TokenVerifier, store: any RevocationStore, now: @escaping Now) {
        self.settings = settings
        self.verifier = verifier
        self.store = store
        self.now = now
    }

    /// - Parameter audience: the `aud` required; nil accepts any (the issuer's own endpoints).
    /// - Throws: ``BearerError/invalidToken(reason:)``.
    public func validate(_ token: String, audience: String?) async throws -> ValidatedAccessToken {
        let claims: AccessTokenClaims
        var familyID: String?
        if settings.cognitoIssuer != nil, !Self.saysTesseraAccessToken(token) {
            guard let cognito = try cognitoClaims(token) else { throw BearerError.invalidToken(reason: "not a valid access token") }
            claims = cognito.asAccessTokenClaims
            familyID = cognito.originJTI
        } else {
            do {
                claims = try verifier.verify(
                    token, as: AccessTokenClaims.self,
                    expecting: TokenExpectations(type: AccessTokenClaims.type, issuer: settings.issuer, audiences: audience.map { [$0] }, now: now()))
            } catch {
                throw BearerError.invalidToken(reason: "\(error)")
            }
        }
        let isClientToken = claims.authTime == nil && claims.sub == claims.clientID
        let standing = try await store.accessTokenStanding(jti: claims.jti, userID: claims.sub, clientID: claims.clientID, familyID: familyID)
        guard !standing.jtiRevoked else { throw BearerError.invalidToken(reason: "revoked") }
        guard !standing.familyRevoked else { throw BearerError.invalidToken(reason: "its refresh family was revoked") }
        if let notBefore = standing.clientTokensNotBefore, Double(claims.iat) <= notBefore.timeIntervalSince1970.rounded(.down) {
            throw BearerError.invalidToken(reason: "revoked with its client")
        }
        guard claims.clientID == FirstPartyClient.id || standing.clientRegistered else { throw BearerError.invalidToken(reason: "client gone") }
        if isClientToken { return ValidatedAccessToken(claims: claims, user: nil) }
        guard let user = standing.user else { throw BearerError.invalidToken(reason: "no such user") }
        guard user.status == .active else { throw BearerError.invalidToken(reason: "user \(user.status.rawValue)") }
        // `iat` has whole seconds: a token from the second of the sign-out counts as before it.
        if let notBefore = user.tokensNotBefore, Double(claims.iat) <= notBefore.timeIntervalSince1970.rounded(.down) {
            throw BearerError.invalidToken(reason: "revoked by user sign-out")
        }
        return ValidatedAccessToken(claims: claims, user: user)
    }

    /// Whether the token's header names Tessera's own access-token type (`at+jwt`): which of
    /// the two verifications to try first, so a valid token is verified once. Only a hint —
    /// either path checks everything itself.
    static func saysTesseraAccessToken(_ token: String) -> Bool {
        guard let end = token.utf8.firstIndex(of: UInt8(ascii: ".")),
              let header = Base64URL.decode(bytes: token.utf8[token.utf8.startIndex..<end]), header.count < 1024
        else { return true }
        return header.range(of: Data("at+jwt".utf8)) != nil
    }

    /// The claims of an access token the Cognito API issued (contract §11.4), when the API is
    /// on and `token` is one: `typ: JWT`, the pool's issuer, `token_use: access`. Such a token
    /// names no audience; Tessera's own endpoints accept it like their own (nil when it is not one).
    private func cognitoClaims(_ token: String) throws -> CognitoAccessTokenClaims? {
        guard let issuer = settings.cognitoIssuer else { return nil }
        let claims: CognitoAccessTokenClaims
        do {
            claims = try verifier.verify(
                token, as: CognitoAccessTokenClaims.self,
                expecting: TokenExpectations(type: CognitoAccessTokenClaims.type, issuer: issuer, audiences: nil, now: now()))
        } catch {
            return nil
        }
        guard claims.tokenUse == "access" else { throw BearerError.invalidToken(reason: "not an access token") }
        return claims
    }
}
