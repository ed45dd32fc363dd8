import Hummingbird
import TesseraCore

/// `GET /admin/v1/keys` and `POST /admin/v1/keys/rotate` (`admin:keys`), contract §12.4:
/// `tessera admin keys list` and `keys rotate` over the same ``KeyAdministration``.
struct AdminKeysController {
    let keys: KeyAdministration
    let accessTokens: AccessTokenValidator

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/admin/v1/keys") { request, _ in
            _ = try await AdminAuthorization.actor(of: request, scope: AdminScope.keys, accessTokens: accessTokens)
            return try AdminJSON.response(try await keys.list())
        }
        router.post("/admin/v1/keys/rotate") { request, _ in
            let actor = try await AdminAuthorization.actor(of: request, scope: AdminScope.keys, accessTokens: accessTokens)
            return try AdminJSON.response(try await keys.rotate(actor: actor))
        }
    }
}
