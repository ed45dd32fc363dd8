import Hummingbird
import Logging
import TesseraCore

/// Writes the admin API's refused calls to the audit log (contract §12.4: every call is audited
/// with the calling client's id; the successes are recorded by the services and ``AdminGate``).
///
/// Sits outside ``ErrorMiddleware``, so it sees the status a call was answered with. A call under
/// `/admin/v1` answered 4xx or 5xx by a registered client (a valid `client_credentials` access
/// token, whatever its scope) becomes an entry `refused` (`failed` for a 5xx), its target the method and route
/// template (`DELETE /admin/v1/users/{user}`: never the raw path, which may hold an address),
/// its details the status. Calls without a valid client token are not audited: anyone can sign up
/// for a user token, and an entry per unauthenticated request would let anyone fill the log; the
/// request log line records them.
struct AdminRefusalAudit: RouterMiddleware {
    typealias Context = TesseraRequestContext

    let gate: AdminGate

    static func isAdminPath(_ path: String) -> Bool {
        path == "/admin/v1" || path.hasPrefix("/admin/v1/")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard response.status.code >= 400, Self.isAdminPath(request.uri.path), let caller = await gate.client(request) else { return response }
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "an unknown route"
        do {
            try await gate.auditLog.recordAdminAction(
                actor: caller, action: response.status.code >= 500 ? "failed" : "refused", target: "\(request.method) \(route)",
                details: "status \(response.status.code)", now: gate.now())
        } catch {
            // The caller is answered with the refusal all the same; the log line keeps the trace.
            context.logger.warning("refused admin call not audited", metadata: ["error.type": "\(type(of: error))"])
        }
        return response
    }
}
