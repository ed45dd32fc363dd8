import HTTPTypes
import TesseraCore

extension APIError {
    /// The one place OAuth errors become HTTP answers (RFC 6749 §5.2): 400, or 401 with
    /// `WWW-Authenticate` for a failed client authentication, 429/503 with `Retry-After`.
    init(_ error: OAuthError) {
        var headers: HTTPFields = [:]
        let status: HTTPResponse.Status
        switch error.code {
        case .invalidClient:
            status = .unauthorized
            headers[.wwwAuthenticate] = #"Basic realm="tessera""#
        case .serverError:
            status = .internalServerError
        case .temporarilyUnavailable:
            status = error.description.hasPrefix("too many") ? .tooManyRequests : .serviceUnavailable
        case .migrationUnavailable:
            status = .serviceUnavailable
        default:
            status = .badRequest
        }
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        self.init(status, error.code.rawValue, error.description, headers: headers)
    }
}

extension OAuthError {
    /// How account failures read at the token endpoint (the password and refresh grants).
    init(_ error: AccountError) {
        switch error {
        case .invalidRequest(let description): self = .invalidRequest(description)
        case .invalidCredentials: self = OAuthError(.invalidGrant, "invalid username or password")
        case .userDisabled: self = OAuthError(.invalidGrant, "this account is disabled")
        case .userUnconfirmed: self = OAuthError(.invalidGrant, "this account is not confirmed yet")
        case .passwordChangeRequired: self = OAuthError(.invalidGrant, "the password was set for one sign-in; choose a new one first")
        case .passwordResetRequired: self = OAuthError(.invalidGrant, "the password must be reset first")
        case .tooManyAttempts(let retryAfter): self = OAuthError(.temporarilyUnavailable, "too many login attempts; try again later", retryAfter: retryAfter)
        case .busy(let retryAfter): self = OAuthError(.temporarilyUnavailable, "the server is busy; try again shortly", retryAfter: retryAfter)
        case .migrationUnavailable: self = OAuthError(.migrationUnavailable, "the user could not be moved from the old system now; try again shortly")
        case .invalidClient(let description): self = OAuthError(.unauthorizedClient, description)
        case .invalidScope(let description): self = OAuthError(.invalidScope, description)
        case .invalidGrant(let reason): self = .invalidGrant(reason: reason)
        case .invalidEmail, .weakPassword, .emailTaken, .signupRejected, .hookFailed, .tooManyRequests, .preconditionRequired, .preconditionFailed,
             .invalidCode, .notFound, .emailUnverified, .primaryEmail:
            self = OAuthError(.invalidRequest, "the request cannot be completed")
        }
    }
}
