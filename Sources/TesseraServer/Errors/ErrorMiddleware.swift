import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import TesseraCore

/// The router's outermost middleware: every error, from any route or from the router itself
/// (its "not found" passes through here too), leaves in the contract's JSON format. Unknown
/// paths give 404, known paths with another method 405 (with `Allow`), a database out of
/// reach 503 `temporarily_unavailable` with `Retry-After`, and anything unexpected 500
/// `server_error`, logged with the request id.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    /// Methods registered per path; filled once every route is registered.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as AccountError {
            if case .invalidGrant(let reason) = error {
                context.logger.info("refresh refused", metadata: ["oauth.error": "invalid_grant", "reason": "\(reason)"])
            }
            return APIError(error).response()
        } catch let error as OAuthError {
            context.logger.info("oauth error", metadata: ["oauth.error": "\(error.code.rawValue)", "reason": "\(error.reason ?? error.description)"])
            return APIError(error).response()
        } catch let error as BearerError {
            if case .invalidToken(let reason) = error {
                context.logger.info("bearer token refused", metadata: ["reason": "\(reason)"])
            }
            return APIError(error).response()
        } catch let error as AdminFailure {
            return APIError(error).response()
        } catch let error as HTTPError {
            return map(error, request: request, context: context).response()
        } catch StorageError.unavailable(let reason) {
            // The database is out of reach (contract §10.3): the request may be sent again.
            context.logger.warning("database unavailable", metadata: ["reason": "\(reason)"])
            return APIError(AccountError.busy(retryAfter: 1)).response()
        } catch {
            context.logger.error("unexpected error", metadata: ["error.type": "\(type(of: error))", "error": "\(error)"])
            return APIError.serverError().response()
        }
    }

    private func map(_ error: HTTPError, request: Request, context: Context) -> APIError {
        switch error.status {
        case .notFound:
            if let allowed = routes.methods(for: request.uri.path), !allowed.contains(request.method) {
                return .methodNotAllowed(allowed: allowed)
            }
            return .notFound()
        case .contentTooLarge:
            return APIError(.contentTooLarge, "invalid_request", "request body too large")
        case .badRequest:
            return .invalidRequest(error.body ?? "malformed request")
        case .unsupportedMediaType:
            return APIError(.unsupportedMediaType, "invalid_request", error.body ?? "unsupported content type")
        default:
            if error.status.code >= 500 {
                context.logger.error("HTTP error", metadata: ["http.status": "\(error.status.code)"])
                return .serverError()
            }
            return APIError(error.status, "invalid_request", error.body ?? error.status.reasonPhrase)
        }
    }
}

/// The methods registered for each path, read by ``ErrorMiddleware`` to tell 405 from 404.
final class RouteMethods: Sendable {
    private let table: Mutex<[String: [HTTPRequest.Method]]> = Mutex([:])

    /// Records the router's routes; called once, after every route is added.
    func record(_ routes: [Router<TesseraRequestContext>.RouteDescription]) {
        let grouped = Dictionary(grouping: routes, by: { $0.path.description }).mapValues { $0.map(\.method) }
        table.withLock { $0 = grouped }
    }

    func methods(for path: String) -> [HTTPRequest.Method]? {
        table.withLock { $0[path] }
    }
}
