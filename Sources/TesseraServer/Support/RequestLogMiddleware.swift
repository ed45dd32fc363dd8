import Hummingbird
import Logging
import NIOCore

/// Logs one line per request: method, path (never the query, which may hold codes or state),
/// status and duration. Never a header or a body.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.debug("request", metadata: [
                "http.method": "\(request.method.rawValue)",
                "http.path": "\(request.uri.path)",
                "http.status": "\(status)",
                "http.duration_ms": "\((milliseconds * 100).rounded() / 100)",
            ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as APIError {
            status = error.status.code
            throw error
        } catch let error as HTTPError {
            status = error.status.code
            throw error
        }
    }
}
