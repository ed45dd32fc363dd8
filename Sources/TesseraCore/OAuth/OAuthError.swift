/// An OAuth 2.0 error (RFC 6749 §5.2, §4.1.2.1; RFC 6750; OIDC Core §3.1.2.6): the code the
/// client sees, a description shown to it, and a reason that is only logged.
public struct OAuthError: Error, Equatable, Sendable {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case unsupportedResponseType = "unsupported_response_type"
        case invalidScope = "invalid_scope"
        case loginRequired = "login_required"
        case accessDenied = "access_denied"
        case serverError = "server_error"
        case temporarilyUnavailable = "temporarily_unavailable"
        /// Lazy migration's old system could not be asked (contract §11.7): 503.
        case migrationUnavailable = "migration_unavailable"
    }

    public var code: Code
    public var description: String
    /// For logs only.
    public var reason: String?
    /// Seconds to wait, for `temporarily_unavailable` and throttling.
    public var retryAfter: Int?

    public init(_ code: Code, _ description: String, reason: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.description = description
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public static func invalidRequest(_ description: String) -> OAuthError { OAuthError(.invalidRequest, description) }
    public static func invalidClient(reason: String) -> OAuthError {
        OAuthError(.invalidClient, "client authentication failed", reason: reason)
    }
    public static func invalidGrant(reason: String) -> OAuthError {
        OAuthError(.invalidGrant, "the grant is invalid, expired or revoked", reason: reason)
    }
}
