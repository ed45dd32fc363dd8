import Foundation
import Hummingbird
import TesseraCore

/// Email verification and password recovery (contract §8.3): `/v1/email/verification`,
/// `/v1/email/verify`, `/v1/password/forgot`, `/v1/password/reset`.
struct LifecycleController {
    let lifecycle: LifecycleService

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.post("/v1/email/verification", use: requestVerification)
        router.post("/v1/email/verify", use: verify)
        router.post("/v1/password/forgot", use: forgot)
        router.post("/v1/password/reset", use: reset)
    }

    struct ResetRequest: Decodable {
        let email: String
        let code: String
        let password: String
        static let keys: Set<String> = ["email", "code", "password"]
    }

    struct Verified: Encodable {
        let userID: String
        let email: String
        let emailVerified = true
        enum CodingKeys: String, CodingKey {
            case userID = "user_id", email, emailVerified = "email_verified"
        }
    }

    struct ResetDone: Encodable {
        let userID: String
        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
        }
    }

    /// The one answer to every address-taking request: 202 `{}`.
    private static func accepted() -> Response {
        JSONResponse.make(status: .accepted, body: Array("{}".utf8), cacheControl: "no-store")
    }

    @Sendable func requestVerification(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddressBody.self, from: request, context: context, allowedKeys: AddressBody.keys)
        try await lifecycle.requestVerification(email: body.email, clientIP: context.clientIP)
        return Self.accepted()
    }

    @Sendable func verify(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddressCodeBody.self, from: request, context: context, allowedKeys: AddressCodeBody.keys)
        let user = try await lifecycle.verifyEmail(email: body.email, code: body.code, clientIP: context.clientIP)
        return JSONResponse.make(Verified(userID: user.id, email: user.email))
    }

    @Sendable func forgot(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddressBody.self, from: request, context: context, allowedKeys: AddressBody.keys)
        try await lifecycle.forgotPassword(email: body.email, clientIP: context.clientIP)
        return Self.accepted()
    }

    @Sendable func reset(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ResetRequest.self, from: request, context: context, allowedKeys: ResetRequest.keys)
        let user = try await lifecycle.resetPassword(email: body.email, code: body.code, password: body.password, clientIP: context.clientIP)
        return JSONResponse.make(ResetDone(userID: user.id))
    }
}
