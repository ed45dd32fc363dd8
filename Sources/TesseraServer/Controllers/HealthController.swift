import Hummingbird
import TesseraCore

/// `GET /healthz` (the process answers) and `GET /readyz` (the database answers and a signing
/// key is loaded).
struct HealthController {
    let dependencies: Dependencies

    struct Status: Encodable {
        let status: String
        var checks: [String: String]?
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/healthz") { _, _ in
            JSONResponse.make(Status(status: "ok"))
        }
        router.get("/readyz") { _, _ in
            let database = await dependencies.storage.ping()
            let key = dependencies.keys.hasActiveKey
            let checks = ["database": database ? "ok" : "unavailable", "signing_key": key ? "ok" : "missing"]
            let ready = database && key
            return JSONResponse.make(status: ready ? .ok : .serviceUnavailable,
                                     Status(status: ready ? "ready" : "not_ready", checks: checks))
        }
    }
}
