import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// `/admin/v1/users` (contract §12.4): the admin CLI's user commands for automation, over the
/// same ``UserAdministration``, answering with the CLI's `--json` shapes. Every call needs a
/// `client_credentials` access token whose scope holds `admin:users`; every change is audited
/// with the calling client's id.
struct AdminUsersController {
    let admin: UserAdministration
    let accounts: AccountService
    let lifecycle: LifecycleService
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let users = router.group("/admin/v1/users")
        users.get(use: list)
        users.post(use: create)
        users.get(":user", use: show)
        users.patch(":user", use: update)
        users.delete(":user", use: delete)
        users.post(":user/disable") { request, context in try await setStatus(.disabled, request, context) }
        users.post(":user/enable") { request, context in try await setStatus(.active, request, context) }
        users.post(":user/password", use: setPassword)
        users.post(":user/verify-email", use: verifyEmail)
        users.post(":user/send-recovery", use: sendRecovery)
        users.post(":user/sign-out", use: signOut)
    }

    struct CreateRequest: Decodable {
        let email: String
        let password: String?
        let confirmed: Bool?
        static let keys: Set<String> = ["email", "password", "confirmed"]
    }

    struct PasswordRequest: Decodable {
        let password: String
        static let keys: Set<String> = ["password"]
    }

    struct AttributesRequest: Decodable {
        let attributes: [String: String?]
        static let keys: Set<String> = ["attributes"]
    }

    /// The calling client, as the audit log names it.
    private func actor(_ request: Request) async throws -> String {
        try await gate.caller(request, scope: AdminScope.users)
    }

    /// The user the path names (an id, or an address).
    private func target(_ context: TesseraRequestContext) async throws -> User {
        try await admin.user(try AdminPath.parameter("user", of: context))
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await gate.list(request, scope: AdminScope.users, action: "users.list") {
            let query = try AdminQuery(request)
            let limit = try query.value("limit", default: 100, "limit must be between 1 and 1000", Int.init)
            let status = try query.value("status", default: nil, "status must be active, unconfirmed or disabled", UserStatus.init(rawValue:))
            return try await admin.list(limit: limit, after: query["after"], emailPrefix: query["email_prefix"], status: status).map(UserAdministration.summary)
        }
    }

    @Sendable func create(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context, allowedKeys: CreateRequest.keys)
        let user = try await admin.create(email: body.email, password: body.password, confirmed: body.confirmed ?? false, actor: actor)
        return try AdminJSON.response(UserAdministration.summary(user), status: .created)
    }

    @Sendable func show(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let (user, emails) = try await admin.details(of: try await target(context))
        try await gate.read(caller, action: "users.show", target: "user \(user.id)")
        return try AdminJSON.response(UserAdministration.detail(user, emails: emails), etag: ProfileETag.of(user))
    }

    /// A JSON merge of the attributes, only with `If-Match` naming the user's current ETag (the
    /// one `GET` answered with), as `PATCH /v1/me`.
    @Sendable func update(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(AttributesRequest.self, from: request, context: context, allowedKeys: AttributesRequest.keys)
        let user = try await admin.updateAttributes(
            of: try await target(context), ifMatch: request.headers.fieldValue(.ifMatch), changes: body.attributes, using: accounts, actor: actor)
        let (updated, emails) = try await admin.details(of: user)
        return try AdminJSON.response(UserAdministration.detail(updated, emails: emails), etag: ProfileETag.of(updated))
    }

    @Sendable func delete(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let user = try await target(context)
        try await admin.delete(user, actor: actor)
        return try AdminJSON.response(["user_id": user.id, "deleted": true])
    }

    func setStatus(_ status: UserStatus, _ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let user = try await target(context)
        try await admin.setStatus(user, status, actor: actor)
        return try AdminJSON.response(["user_id": user.id, "status": status.rawValue])
    }

    @Sendable func setPassword(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(PasswordRequest.self, from: request, context: context, allowedKeys: PasswordRequest.keys)
        let user = try await target(context)
        try await admin.setPassword(of: user, to: body.password, actor: actor)
        return try AdminJSON.response(["user_id": user.id, "password_set": true])
    }

    @Sendable func verifyEmail(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let verified = try await admin.verifyEmail(of: try await target(context), actor: actor)
        return try AdminJSON.response(["user_id": verified.id, "email": verified.email, "email_verified": true, "status": verified.status.rawValue])
    }

    @Sendable func sendRecovery(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let user = try await target(context)
        try await admin.sendRecovery(to: user, using: lifecycle, actor: actor)
        return try AdminJSON.response(["user_id": user.id, "queued": true])
    }

    @Sendable func signOut(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let user = try await target(context)
        try await admin.signOut(user, actor: actor)
        return try AdminJSON.response(["revoked": "user", "user_id": user.id])
    }
}
