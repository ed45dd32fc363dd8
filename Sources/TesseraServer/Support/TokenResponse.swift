import TesseraCore

/// The RFC 6749 §5.1 token response, shared by `/v1/login`, `/v1/token/refresh` and
/// `/oauth2/token`.
struct TokenResponse: Encodable {
    let accessToken: String
    let tokenType = "Bearer"
    let expiresIn: Int
    let refreshToken: String?
    let idToken: String?
    let scope: String

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
        case refreshToken = "refresh_token", idToken = "id_token", scope
    }

    init(_ tokens: IssuedTokens) {
        accessToken = tokens.accessToken
        expiresIn = tokens.expiresIn
        refreshToken = tokens.refreshToken?.value
        idToken = tokens.idToken
        scope = tokens.accessClaims.scope
    }
}
