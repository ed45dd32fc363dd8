import Hummingbird
import TesseraCore

/// `GET /admin/v1/keys` and `POST /admin/v1/keys/rotate` (`admin:keys`), contract §12.4:
/// `tessera admin keys list` and `keys rotate` over the same ``KeyAdministration``.
struct AdminKeysController {
    let keys: KeyAdministration
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/admin/v1/keys") { request, _ in
            try await gate.list(request, scope: AdminScope.keys, action: "keys.list") { try await keys.list() }
        }
        router.post("/admin/v1/keys/rotate") { request, _ in
            let actor = try await gate.caller(request, scope: AdminScope.keys)
            return try AdminJSON.response(try await keys.rotate(actor: actor))
        }
    }
}
