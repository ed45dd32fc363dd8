import TesseraCore

/// The RFC 6749 §5.1 token response, shared by `/v1/login`, `/v1/token/refresh` and
/// `/oauth2/token`.
struct TokenResponse: JSONObjectWritable {
    let accessToken: String
    let tokenType = "Bearer"
    let expiresIn: Int
    let refreshToken: String?
    let idToken: String?
    let scope: String

    func write(to writer: inout JSONObjectWriter) {
        writer.add("access_token", accessToken)
        writer.add("token_type", tokenType)
        writer.add("expires_in", expiresIn)
        writer.add("refresh_token", refreshToken)
        writer.add("id_token", idToken)
        writer.add("scope", scope)
    }

    init(_ tokens: IssuedTokens) {
        accessToken = tokens.accessToken
        expiresIn = tokens.expiresIn
        refreshToken = tokens.refreshToken?.value
        idToken = tokens.idToken
        scope = tokens.accessClaims.scope
    }
}
