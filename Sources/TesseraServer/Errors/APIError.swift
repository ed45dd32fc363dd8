import HTTPTypes
import Hummingbird

/// An error answered to the client in the contract's format:
/// `{"error": "<code>", "error_description": "…"}` with its status and headers.
///
/// Domain errors (`OAuthError`, `AccountError`, …) map to this in one place each; nothing else
/// reaches a client, so Hummingbird's own error body never does.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// The machine-readable code, e.g. `invalid_request`.
    public var code: String
    /// The human-readable explanation shown to the client.
    public var description: String
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`, …).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ description: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers
    }

    public static func notFound() -> APIError {
        APIError(.notFound, "not_found", "no such endpoint")
    }

    public static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> APIError {
        let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return APIError(.methodNotAllowed, "method_not_allowed", "allowed: \(allow)", headers: [.allow: allow])
    }

    public static func invalidRequest(_ description: String) -> APIError {
        APIError(.badRequest, "invalid_request", description)
    }

    public static func serverError() -> APIError {
        APIError(.internalServerError, "server_error", "the server could not complete the request")
    }
}

struct ErrorBody: Encodable {
    let error: String
    let errorDescription: String

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
    }
}

extension APIError {
    /// The response: JSON body, `Cache-Control: no-store`, and the error's own headers.
    public func response() -> Response {
        var response = JSONResponse.make(status: status, ErrorBody(error: code, errorDescription: description))
        for field in headers { response.headers.append(field) }
        return response
    }
}
