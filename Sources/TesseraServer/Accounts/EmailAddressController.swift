import Foundation
import Hummingbird
import TesseraCore

/// A signed-in user's addresses (contract §8.3): `GET`/`POST /v1/me/emails`,
/// `POST /v1/me/emails/verify`, `POST /v1/me/emails/primary`, `DELETE /v1/me/emails/{email}`.
struct EmailAddressController {
    let addresses: EmailAddressService
    /// Renders the profile after a change of primary.
    let profiles: AccountController

    func addRoutes(to router: Router<TesseraRequestContext>, verifier: BearerAuthenticator) {
        router.group("/v1/me/emails")
            .add(middleware: verifier)
            .group(context: AuthenticatedRequestContext.self)
            .get(use: list)
            .post(use: add)
            .post("verify", use: verify)
            .post("primary", use: makePrimary)
            .delete(":email", use: remove)
    }

    struct PrimaryRequest: Decodable {
        let email: String
        let currentPassword: String
        enum CodingKeys: String, CodingKey {
            case email, currentPassword = "current_password"
        }
        static let keys: Set<String> = ["email", "current_password"]
    }

    struct AddressState: Encodable {
        let email: String
        let verified: Bool
    }

    @Sendable func list(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let emails = try await addresses.emails(of: context.principal.user)
        return JSONResponse.make(body: JSONObjectWriter.array(emails, AccountController.Profile.write), cacheControl: "no-store")
    }

    @Sendable func add(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddressBody.self, from: request, context: context, allowedKeys: AddressBody.keys)
        let email = try await addresses.add(body.email, to: context.principal.user, clientIP: context.clientIP)
        return JSONResponse.make(status: .accepted, AddressState(email: email, verified: false))
    }

    @Sendable func verify(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddressCodeBody.self, from: request, context: context, allowedKeys: AddressCodeBody.keys)
        let email = try await addresses.verify(body.email, code: body.code, of: context.principal.user, clientIP: context.clientIP)
        return JSONResponse.make(AddressState(email: email, verified: true))
    }

    @Sendable func makePrimary(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PrimaryRequest.self, from: request, context: context, allowedKeys: PrimaryRequest.keys)
        let user = try await addresses.makePrimary(
            body.email, currentPassword: body.currentPassword, of: context.principal.user, clientIP: context.clientIP)
        return try await profiles.profileResponse(user)
    }

    @Sendable func remove(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let raw = try context.parameters.require("email")
        try await addresses.remove(raw.removingPercentEncoding ?? raw, of: context.principal.user)
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }
}
