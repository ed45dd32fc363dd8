import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// The first-party JSON API (contract §4): `/v1/signup`, `/v1/login`, `/v1/token/refresh`,
/// `/v1/logout`, `/v1/me`.
struct AccountController {
    static let refreshCookie = "tessera_refresh"

    let accounts: AccountService
    let addresses: EmailAddressService
    let now: Now

    func addRoutes(to router: Router<TesseraRequestContext>, verifier: BearerAuthenticator) {
        router.post("/v1/signup", use: signUp)
        router.post("/v1/login", use: login)
        router.post("/v1/token/refresh", use: refresh)
        router.post("/v1/logout", use: logout)
        router.group("/v1/me")
            .add(middleware: verifier)
            .group(context: AuthenticatedRequestContext.self)
            .get(use: me)
            .patch(use: updateMe)
            .post("password", use: changePassword)
            .post("deletion", use: deleteAccount)
    }

    // MARK: Requests and responses

    struct SignUpRequest: Decodable {
        let email: String
        let password: String
        let attributes: [String: String]?
        static let keys: Set<String> = ["email", "password", "attributes"]
    }

    struct SignUpResponse: Encodable {
        let userID: String
        let email: String
        let status: UserStatus
        enum CodingKeys: String, CodingKey {
            case userID = "user_id", email, status
        }
    }

    struct LoginRequest: Decodable {
        let email: String
        let password: String
        let clientID: String?
        let scope: String?
        enum CodingKeys: String, CodingKey {
            case email, password, scope
            case clientID = "client_id"
        }
        static let keys: Set<String> = ["email", "password", "client_id", "scope"]
    }

    struct RefreshRequest: Decodable {
        let refreshToken: String?
        enum CodingKeys: String, CodingKey {
            case refreshToken = "refresh_token"
        }
        static let keys: Set<String> = ["refresh_token"]
    }

    struct PasswordChange: Decodable {
        let currentPassword: String
        let password: String
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password", password
        }
        static let keys: Set<String> = ["current_password", "password"]
    }

    struct Deletion: Decodable {
        let currentPassword: String
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
        }
        static let keys: Set<String> = ["current_password"]
    }

    struct ProfileUpdate: Decodable {
        let attributes: [String: String?]
        static let keys: Set<String> = ["attributes"]
    }

    struct Profile: JSONObjectWritable {
        let userID: String
        let email: String
        let emailVerified: Bool
        let status: UserStatus
        let attributes: [String: String]
        let createdAt: Int
        let emails: [AccountEmail]

        func write(to writer: inout JSONObjectWriter) {
            writer.add("user_id", userID)
            writer.add("email", email)
            writer.add("email_verified", emailVerified)
            writer.add("status", status.rawValue)
            writer.add("attributes", attributes)
            writer.add("created_at", createdAt)
            // Contract §8.3: the account's addresses, primary first.
            writer.add("emails", objects: emails, Self.write)
        }

        static func write(_ address: AccountEmail, to object: inout JSONObjectWriter) {
            object.add("email", address.email)
            object.add("primary", address.primary)
            object.add("verified", address.verified)
        }
    }

    // MARK: Handlers

    @Sendable func signUp(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SignUpRequest.self, from: request, context: context, allowedKeys: SignUpRequest.keys)
        let user = try await accounts.signUp(
            email: body.email, password: body.password, attributes: body.attributes ?? [:], clientIP: context.clientIP)
        return JSONResponse.make(status: .created, SignUpResponse(userID: user.id, email: user.email, status: user.status))
    }

    @Sendable func login(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try accounts.shedLoginIfBusy()
        let body = try await JSONBody.decode(LoginRequest.self, from: request, context: context, allowedKeys: LoginRequest.keys)
        let tokens = try await accounts.login(
            email: body.email, password: body.password, clientID: body.clientID, scope: body.scope, clientIP: context.clientIP)
        return tokenResponse(tokens)
    }

    @Sendable func refresh(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decodeIfPresent(RefreshRequest.self, from: request, context: context, allowedKeys: RefreshRequest.keys)
        guard let presented = body?.refreshToken ?? request.cookies[Self.refreshCookie]?.value else {
            throw AccountError.invalidGrant(reason: "no refresh token presented")
        }
        // Only the first-party client's tokens rotate here; registered clients refresh at
        // /oauth2/token, authenticated.
        return tokenResponse(try await accounts.refresh(presented, client: ClientRegistry.firstParty))
    }

    @Sendable func logout(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decodeIfPresent(RefreshRequest.self, from: request, context: context, allowedKeys: RefreshRequest.keys)
        try await accounts.logout(body?.refreshToken ?? request.cookies[Self.refreshCookie]?.value)
        var response = Response(status: .noContent, headers: [.cacheControl: "no-store"])
        response.headers[.setCookie] = Self.cookie(value: "", maxAge: 0)
        return response
    }

    /// `GET /v1/me`; with `If-None-Match` naming the current tag, 304 without a body.
    @Sendable func me(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let user = context.principal.user
        if let condition = request.headers.fieldValue(.ifNoneMatch) {
            let etag = ProfileETag.of(user)
            guard let named = ProfileETag.ifNoneMatch(condition, names: etag) else {
                throw AccountError.invalidRequest("If-None-Match is not a list of entity tags or *")
            }
            if named { return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: "no-store"]) }
        }
        return try await profileResponse(user)
    }

    /// `PATCH /v1/me`: a JSON merge of the attributes, conditional on `If-Match`.
    @Sendable func updateMe(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ProfileUpdate.self, from: request, context: context, allowedKeys: ProfileUpdate.keys)
        let user = try await accounts.updateAttributes(
            of: context.principal.user.id, ifMatch: request.headers.fieldValue(.ifMatch), changes: body.attributes)
        return try await profileResponse(user)
    }

    /// `POST /v1/me/password`: a new token set (and refresh cookie); every other session ends.
    @Sendable func changePassword(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PasswordChange.self, from: request, context: context, allowedKeys: PasswordChange.keys)
        return tokenResponse(try await accounts.changePassword(
            of: context.principal.user, current: body.currentPassword, new: body.password, clientIP: context.clientIP))
    }

    /// `POST /v1/me/deletion`: 204 once the account is erased; the refresh cookie is cleared.
    @Sendable func deleteAccount(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(Deletion.self, from: request, context: context, allowedKeys: Deletion.keys)
        try await accounts.deleteAccount(of: context.principal.user, currentPassword: body.currentPassword, clientIP: context.clientIP)
        var response = Response(status: .noContent, headers: [.cacheControl: "no-store"])
        response.headers[.setCookie] = Self.cookie(value: "", maxAge: 0)
        return response
    }

    /// The profile with its strong `ETag`.
    func profileResponse(_ user: User) async throws -> Response {
        var response = JSONResponse.make(Profile(
            userID: user.id, email: user.email, emailVerified: user.emailVerified, status: user.status,
            attributes: user.attributes, createdAt: user.createdAt.epochSeconds, emails: try await addresses.emails(of: user)))
        response.headers[.eTag] = ProfileETag.of(user)
        return response
    }

    // MARK: Helpers

    /// The token response, `Cache-Control: no-store`, and the refresh token as the cookie.
    private func tokenResponse(_ tokens: IssuedTokens) -> Response {
        var response = JSONResponse.make(TokenResponse(tokens))
        if let refresh = tokens.refreshToken, let expires = tokens.refreshExpiresAt {
            response.headers[.setCookie] = Self.cookie(value: refresh.value, maxAge: max(0, Int(expires.timeIntervalSince(now()))))
        }
        return response
    }

    /// The refresh cookie: HttpOnly, Secure, SameSite=Strict, Path=/v1.
    static func cookie(value: String, maxAge: Int) -> String {
        "\(refreshCookie)=\(value); Max-Age=\(maxAge); Path=/v1; HttpOnly; Secure; SameSite=Strict"
    }
}
