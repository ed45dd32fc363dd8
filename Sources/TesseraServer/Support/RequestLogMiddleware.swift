import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraCore

/// The outermost middleware: gives every request its id, and once it is answered logs one
/// `info` line (route template, method, status, duration, request id) and counts it in the
/// HTTP series (contract §12.1, §12.2). Never the raw path, a query, a header or a body.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    static let requestIDField = HTTPField.Name("X-Request-Id")!

    let metrics: RequestMetrics

    /// The caller's `X-Request-Id` when it is a short token (1 to 64 of `A-Z a-z 0-9 . _ : -`),
    /// so that an id a proxy gave the request follows it; otherwise nil.
    static func acceptedRequestID(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.utf8.count),
              value.utf8.allSatisfy({ byte in
                  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                      || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
              })
        else { return nil }
        return value
    }

    /// 128 random bits as 32 hex digits.
    static func generatedRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next() as UInt64, generator.next()].map { half in
            let digits = String(half, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = Self.acceptedRequestID(request.headers[Self.requestIDField]) ?? Self.generatedRequestID()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            let endpoint = context.endpointPath
            let series = metrics.series(route: endpoint == "NotFound" ? nil : endpoint, method: request.method)
            series.record(status: status, nanoseconds: nanoseconds)
            context.logger.info("request", metadata: [
                "route": "\(series.route)",
                "method": "\(series.method)",
                "status": "\(status)",
                "duration_ms": "\(Double(nanoseconds / 10_000) / 100)",
            ])
        }
        do {
            var response = try await RequestIdentity.$current.withValue(requestID) { try await next(request, context) }
            status = response.status.code
            response.headers[Self.requestIDField] = requestID
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
