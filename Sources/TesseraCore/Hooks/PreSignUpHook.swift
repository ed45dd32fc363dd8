/// A sign-up as a pre-sign-up hook sees it. Hooks may change `attributes` and `confirmed`;
/// the email is fixed.
public struct SignUpAttempt: Sendable, Equatable {
    /// As the user typed it.
    public let email: String
    /// Free-form string attributes, as sent and as adjusted by earlier hooks.
    public var attributes: [String: String]
    /// Whether the account starts `active` (true) or `unconfirmed` (false).
    public var confirmed: Bool

    public init(email: String, attributes: [String: String], confirmed: Bool) {
        self.email = email
        self.attributes = attributes
        self.confirmed = confirmed
    }
}

/// What a pre-sign-up hook decided.
public enum PreSignUpDecision: Sendable, Equatable {
    /// Go on, with the attempt as the hook returns it (attributes adjusted, confirmed marked).
    case allow(SignUpAttempt)
    /// Refuse: the caller gets 403 `signup_rejected` with this reason.
    case reject(reason: String)
}

/// Runs before anything is stored. Hooks run in registration order, each seeing the attempt
/// as the previous one left it; the first rejection wins. If a hook throws or exceeds
/// `hook_timeout`, sign-up fails with 503 `hook_failed` and nothing is stored.
///
/// ```swift
/// struct OnlyExampleDotCom: PreSignUpHook {
///     func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision {
///         attempt.email.lowercased().hasSuffix("@example.com") ? .allow(attempt) : .reject(reason: "invite only")
///     }
/// }
/// ```
public protocol PreSignUpHook: Sendable {
    /// A stable name for logs.
    var name: String { get }
    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision
}

extension PreSignUpHook {
    public var name: String { String(describing: Self.self) }
}
