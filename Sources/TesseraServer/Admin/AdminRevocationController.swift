import Foundation
import Hummingbird
import TesseraCore

/// `POST /admin/v1/revoke` (`admin:revoke`) and `GET /admin/v1/audit` (`admin:audit`), contract
/// §12.4: `tessera admin revoke` and `tessera admin audit` over the same services, with their
/// `--json` shapes.
struct AdminRevocationController {
    let revocations: RevocationAdministration
    let users: UserAdministration
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.post("/admin/v1/revoke", use: revoke)
        router.get("/admin/v1/audit", use: audit)
    }

    /// Exactly one of the four targets.
    struct RevokeRequest: Decodable {
        let user: String?
        let client: String?
        let token: String?
        let jti: String?
        static let keys: Set<String> = ["user", "client", "token", "jti"]
    }

    @Sendable func revoke(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await gate.caller(request, scope: AdminScope.revoke)
        let body = try await JSONBody.decode(RevokeRequest.self, from: request, context: context, allowedKeys: RevokeRequest.keys)
        switch (body.user, body.client, body.token, body.jti) {
        case (.some(let user), nil, nil, nil):
            let found = try await users.user(user)
            try await users.signOut(found, actor: actor)
            return try AdminJSON.response(["revoked": "user", "user_id": found.id])
        case (nil, .some(let client), nil, nil):
            return try AdminJSON.response(try await revocations.revokeClient(client, actor: actor))
        case (nil, nil, .some(let token), nil):
            return try AdminJSON.response(try await revocations.revokeFamily(of: token, actor: actor))
        case (nil, nil, nil, .some(let jti)):
            return try AdminJSON.response(try await revocations.revokeAccessToken(jti: jti, actor: actor))
        default:
            throw APIError.invalidRequest("give exactly one of user, client, token, jti")
        }
    }

    @Sendable func audit(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await gate.list(request, scope: AdminScope.audit, action: "audit.read") {
            let query = try AdminQuery(request)
            let limit = try query.value("limit", default: 50, "limit must be between 1 and 10000", Int.init)
            let after: Int64? = try query.value("after", default: nil, "after must be an entry id") { Int64($0).flatMap { $0 >= 0 ? $0 : nil } }
            return try await revocations.audit(limit: limit, after: after).map(RevocationAdministration.json)
        }
    }
}
