import Foundation
import TesseraCore

/// Mints the Cognito API's tokens (contract §11.4): Cognito's claims, Tessera's keys, RS256,
/// `iss` = `<public_url>/<pool id>`. The access token's scope shows `account` under Cognito's
/// name, `aws.cognito.signin.user.admin`; its groups are always listed (`cognito:groups`).
struct CognitoTokens: Sendable {
    let issuer: String
    let settings: Settings
    let signer: any TokenSigner
    let groups: GroupService
    let crypto: any CryptoPrimitives

    /// Cognito's name for the scope of the user's own account API.
    static let adminScope = CognitoAccessTokenClaims.accountScope

    /// What every Cognito-API sign-in is granted: the account API and the user's identity.
    static let grantedScope = Scope([Scope.account, Scope.openID, Scope.email, Scope.profile])

    /// The scope as the access token shows it.
    static func shown(_ scope: Scope) -> String {
        Scope(scope.tokens.map { $0 == Scope.account ? adminScope : $0 }).description
    }

    func mint(_ grant: TokenGrant) async throws -> IssuedTokens {
        let names = try await groups.groups(ofUser: grant.user.id).map(\.name)
        let iat = grant.now.epochSeconds
        let lifetime = Int(grant.lifetime ?? settings.accessTokenTTL)
        let origin = grant.familyID ?? RandomIdentifier.make(using: crypto)
        let eventID = UUID().uuidString.lowercased()
        let access = CognitoAccessTokenClaims(
            iss: issuer, sub: grant.user.id, clientID: grant.clientID, originJTI: origin, eventID: eventID, scope: Self.shown(grant.scope),
            authTime: grant.authTime.epochSeconds, exp: iat + lifetime, iat: iat, jti: UUID().uuidString.lowercased(),
            username: grant.user.id, groups: names.isEmpty ? nil : names)
        let id = CognitoIDTokenClaims(
            iss: issuer, sub: grant.user.id, aud: grant.clientID, originJTI: origin, eventID: eventID, authTime: grant.authTime.epochSeconds,
            exp: iat + lifetime, iat: iat, jti: UUID().uuidString.lowercased(), username: grant.user.id, email: grant.user.email,
            emailVerified: grant.user.emailVerified, groups: names.isEmpty ? nil : names, attributes: grant.user.attributes)
        var claims = access.asAccessTokenClaims
        claims.scope = grant.scope.description
        return IssuedTokens(
            accessToken: try signer.sign(access, type: CognitoAccessTokenClaims.type), accessClaims: claims, expiresIn: lifetime,
            idToken: try signer.sign(id, type: CognitoAccessTokenClaims.type))
    }

    /// `AuthenticationResultType`.
    static func result(_ tokens: IssuedTokens) -> [String: Any] {
        var result: [String: Any] = [
            "AccessToken": tokens.accessToken, "ExpiresIn": tokens.expiresIn, "TokenType": "Bearer",
        ]
        result["IdToken"] = tokens.idToken
        result["RefreshToken"] = tokens.refreshToken?.value
        return result
    }
}
