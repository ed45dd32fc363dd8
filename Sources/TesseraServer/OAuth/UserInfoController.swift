import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// `GET` and `POST /oauth2/userinfo` (OIDC Core §5.3): the claims of the user behind an access
/// token with scope `openid`, filtered by its scopes.
struct UserInfoController {
    static let path = "/oauth2/userinfo"
    /// Standard profile claims (OIDC Core §5.1) served from user attributes of the same name.
    static let profileClaims = ["name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
                                "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale"]

    let accessTokens: AccessTokenValidator

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get(RouterPath(Self.path), use: userInfo)
        router.post(RouterPath(Self.path), use: userInfo)
    }

    @Sendable func userInfo(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let token = try await bearerToken(request, context: context)
        let validated = try await accessTokens.validate(token, audience: nil)
        guard let user = validated.user else { throw BearerError.invalidToken(reason: "not a user token") }
        let scope = Scope(parsing: validated.claims.scope) ?? Scope([])
        guard scope.contains(Scope.openID) else { throw BearerError.insufficientScope(required: Scope.openID) }
        var claims: [String: Any] = ["sub": user.id]
        if scope.contains(Scope.email) {
            claims["email"] = user.email
            claims["email_verified"] = user.emailVerified
        }
        if scope.contains(Scope.profile) {
            for name in Self.profileClaims { if let value = user.attributes[name] { claims[name] = value } }
            claims["updated_at"] = user.updatedAt.epochSeconds
        }
        let body = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        return JSONResponse.make(body: body, cacheControl: "no-store")
    }

    /// RFC 6750 §2.1 header, or §2.2 form parameter on POST; never both.
    private func bearerToken(_ request: Request, context: TesseraRequestContext) async throws -> String {
        let header = request.headers.fieldValue(.authorization)
        var formToken: String?
        if request.method == .post, request.hasContentType("application/x-www-form-urlencoded") {
            formToken = try await FormBody.parameters(of: request, context: context)["access_token"]
        }
        switch (header, formToken) {
        case (.some(let header), nil):
            guard let token = AuthorizationHeader.credentials(header, scheme: "bearer") else { throw BearerError.invalidToken(reason: "not a bearer authorization") }
            return token
        case (nil, .some(let token)):
            return token
        case (nil, nil):
            throw BearerError.missing
        case (.some, .some):
            throw APIError.invalidRequest("send the access token once")
        }
    }
}
