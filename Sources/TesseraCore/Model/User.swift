import Foundation

/// Where an account stands.
public enum UserStatus: String, Codable, Sendable, CaseIterable {
    case active
    /// Created but not confirmed: cannot log in until confirmed.
    case unconfirmed
    /// Switched off by an operator: cannot log in; everything it held is revoked.
    case disabled
}

/// Whose password a user's is: their own, or one an operator set (contract §11.3).
public enum PasswordState: String, Sendable, CaseIterable {
    /// Chosen by the user (or imported): signs in.
    case permanent
    /// Set by an operator for one sign-in, which must choose a new one (Cognito's
    /// `FORCE_CHANGE_PASSWORD` and its `NEW_PASSWORD_REQUIRED` challenge).
    case temporary
    /// Must be reset with a recovery code before any sign-in (Cognito's `RESET_REQUIRED`).
    case resetRequired = "reset_required"
}

/// A stored user.
public struct User: Sendable, Equatable {
    public var id: String
    /// As typed at sign-up.
    public var email: String
    public var emailVerified: Bool
    /// bcrypt hash; nil when the user has no password.
    public var passwordHash: String?
    public var status: UserStatus
    public var attributes: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
    /// Access tokens issued before this instant are revoked (global sign-out).
    public var tokensNotBefore: Date?
    /// Moves with every change to what the profile shows (its strong ETag, ``ProfileETag``).
    public var profileVersion: Int64
    /// How many addresses the account has besides the primary.
    public var otherEmailCount: Int
    public var passwordState: PasswordState

    public init(
        id: String, email: String, emailVerified: Bool, passwordHash: String?, status: UserStatus,
        attributes: [String: String], createdAt: Date, updatedAt: Date, tokensNotBefore: Date? = nil, profileVersion: Int64 = 0,
        otherEmailCount: Int = 0, passwordState: PasswordState = .permanent
    ) {
        self.passwordState = passwordState
        self.profileVersion = profileVersion
        self.otherEmailCount = otherEmailCount
        self.id = id
        self.email = email
        self.emailVerified = emailVerified
        self.passwordHash = passwordHash
        self.status = status
        self.attributes = attributes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.tokensNotBefore = tokensNotBefore
    }
}
