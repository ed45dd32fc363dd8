/// Failures of the first-party account API (contract §4). Each maps to one HTTP answer in
/// `AccountError+HTTP.swift`; `reason`s are for logs only.
public enum AccountError: Error, Equatable, Sendable {
    /// The request is malformed: missing or mistyped fields, unknown fields, bad JSON.
    case invalidRequest(String)
    case invalidEmail
    case weakPassword(String)
    case emailTaken
    /// A pre-sign-up hook said no; its reason is shown to the caller.
    case signupRejected(String)
    /// A pre-sign-up hook threw or timed out.
    case hookFailed
    /// The lazy migration's old system could not be asked (contract §11.7): 503
    /// `migration_unavailable`, never a wrong password.
    case migrationUnavailable
    /// Unknown email or wrong password: one answer for both.
    case invalidCredentials
    case userDisabled
    case userUnconfirmed
    /// The password was right but an operator set it for one sign-in: a new one must be chosen
    /// first (the Cognito API's `NEW_PASSWORD_REQUIRED` challenge).
    case passwordChangeRequired(userID: String)
    /// The password must be reset with a recovery code before any sign-in.
    case passwordResetRequired
    /// Too many failed logins for the account, or attempts from the client IP.
    case tooManyAttempts(retryAfter: Int)
    /// Too many sign-ups from the client IP (`signup_ip_rate`).
    case tooManyRequests(retryAfter: Int)
    /// The password-hashing pool is full: try again shortly.
    case busy(retryAfter: Int)
    /// The client is unknown or not registered for the password grant.
    case invalidClient(String)
    case invalidScope(String)
    /// A refresh token that is unknown, expired, revoked or reused.
    case invalidGrant(reason: String)
    /// Not one of the account's addresses (404).
    case notFound
    /// Only a verified address can be primary (409).
    case emailUnverified
    /// The primary address cannot be removed (409).
    case primaryEmail
    /// A one-time code that is wrong, expired, spent, dead or never issued: one answer for all.
    /// Why is told apart only where an API asks (the Cognito API's `CodeMismatchException`,
    /// `ExpiredCodeException`, `LimitExceededException`); the JSON API answers one way.
    case invalidCode(CodeRefusal)
    /// A conditional update came without `If-Match` (428).
    case preconditionRequired
    /// `If-Match` does not hold for the current profile, whose tag is `currentETag` (412).
    case preconditionFailed(currentETag: String)
}
