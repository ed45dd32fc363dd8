import Hummingbird
import TesseraCore

/// `GET /healthz` (the process answers) and `GET /readyz` (the database answers and a signing
/// key is loaded).
struct HealthController {
    let dependencies: Dependencies
    /// The liveness answer, encoded once: probes and the benchmark's HTTP ceiling call it
    /// constantly, and encoding it each time was a JSONEncoder run per probe.
    static let alive = Array(#"{"status":"ok"}"#.utf8)

    struct Status: Encodable {
        let status: String
        var checks: [String: String]?
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("/healthz") { _, _ in
            JSONResponse.make(body: Self.alive, cacheControl: "no-store")
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
