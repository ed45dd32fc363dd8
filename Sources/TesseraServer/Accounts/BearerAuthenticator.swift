import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TesseraCore

/// Verifies `Authorization: Bearer <access token>` and puts the principal in the context;
/// refuses the request with 401 `invalid_token` otherwise.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = TesseraRequestContext

    let accounts: AccountService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers.fieldValue(.authorization) else { throw BearerError.missing }
        guard let token = AuthorizationHeader.credentials(header, scheme: "bearer") else { throw BearerError.invalidToken(reason: "not a bearer authorization") }
        let (user, claims) = try await accounts.authenticate(bearer: token)
        var context = context
        context.principal = Principal(user: user, claims: claims)
        context.logger[metadataKey: "user.id"] = "\(user.id)"
        return try await next(request, context)
    }
}
