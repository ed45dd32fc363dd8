import HTTPTypes
import TesseraCore

extension APIError {
    /// The one place account errors become HTTP answers (contract §4).
    init(_ error: AccountError) {
        switch error {
        case .invalidRequest(let description):
            self.init(.badRequest, "invalid_request", description)
        case .invalidEmail:
            self.init(.badRequest, "invalid_email", "email address is not valid")
        case .weakPassword(let description):
            self.init(.badRequest, "weak_password", description)
        case .emailTaken:
            self.init(.conflict, "email_taken", "an account with this email already exists")
        case .signupRejected(let reason):
            self.init(.forbidden, "signup_rejected", reason)
        case .hookFailed:
            self.init(.serviceUnavailable, "hook_failed", "sign-up could not be completed; try again later")
        case .migrationUnavailable:
            self.init(.serviceUnavailable, "migration_unavailable", "the user could not be moved from the old system now; try again shortly")
        case .invalidCredentials:
            self.init(.unauthorized, "invalid_credentials", "email or password is incorrect")
        case .userDisabled:
            self.init(.forbidden, "user_disabled", "this account is disabled")
        case .userUnconfirmed:
            self.init(.forbidden, "user_unconfirmed", "this account is not confirmed yet")
        case .passwordChangeRequired:
            self.init(.forbidden, "password_change_required", "this password was set for one sign-in; choose a new one first")
        case .passwordResetRequired:
            self.init(.forbidden, "password_reset_required", "this password must be reset: ask for a recovery code")
        case .tooManyAttempts(let retryAfter):
            self.init(.tooManyRequests, "too_many_attempts", "too many login attempts; try again later",
                      headers: [.retryAfter: String(retryAfter)])
        case .tooManyRequests(let retryAfter):
            self.init(.tooManyRequests, "too_many_requests", "too many requests from this address; try again later",
                      headers: [.retryAfter: String(retryAfter)])
        case .busy(let retryAfter):
            self.init(.serviceUnavailable, "temporarily_unavailable", "the server is busy; try again shortly",
                      headers: [.retryAfter: String(retryAfter)])
        case .invalidClient(let description):
            self.init(.badRequest, "invalid_client", description)
        case .invalidScope(let description):
            self.init(.badRequest, "invalid_scope", description)
        case .preconditionRequired:
            self.init(.preconditionRequired, "precondition_required", "send If-Match with the profile's current ETag")
        case .preconditionFailed(let current):
            self.init(.preconditionFailed, "precondition_failed", "the profile changed since it was read; read it again",
                      headers: [.eTag: current])
        case .notFound:
            self.init(.notFound, "not_found", "not one of this account's addresses")
        case .emailUnverified:
            self.init(.conflict, "email_unverified", "verify the address before making it primary")
        case .primaryEmail:
            self.init(.conflict, "primary_email", "make another address primary before removing this one")
        case .invalidCode:
            self.init(.badRequest, "invalid_code", "the code is not valid; ask for a new one if it has expired")
        case .invalidGrant:
            self.init(.unauthorized, "invalid_grant", "refresh token is invalid, expired or revoked")
        }
    }

    /// RFC 6750 §3.1: a refused bearer token (401), or one whose scope falls short (403).
    init(_ error: BearerError) {
        switch error {
        case .missing, .invalidToken:
            let description = error == .missing ? "an access token is required" : "the access token is invalid, expired or revoked"
            self.init(.unauthorized, "invalid_token", description,
                      headers: [.wwwAuthenticate: #"Bearer realm="tessera", error="invalid_token""#])
        case .insufficientScope(let required):
            self.init(.forbidden, "insufficient_scope", "the access token lacks the \(required) scope",
                      headers: [.wwwAuthenticate: #"Bearer realm="tessera", error="insufficient_scope", scope="\#(required)""#])
        }
    }
}

extension APIError {
    /// The one place administrative refusals become HTTP answers (contract §12.4).
    init(_ error: AdminFailure) {
        switch error {
        case .notFound(let description): self.init(.notFound, "not_found", description)
        case .alreadyExists(let description): self.init(.conflict, "already_exists", description)
        case .invalid(let description): self.init(.badRequest, "invalid_request", description)
        case .conflict(let description): self.init(.conflict, "conflict", description)
        case .preconditionRequired(let description): self.init(.preconditionRequired, "precondition_required", description)
        case .preconditionFailed(let description, let current):
            self.init(.preconditionFailed, "precondition_failed", description, headers: [.eTag: current])
        }
    }
}
