import Foundation

/// A code to store, with the message that carries it; both are written in one transaction.
public struct NewCode: Sendable {
    public var userID: String
    public var purpose: CodePurpose
    /// The address the code was sent to, lower-cased.
    public var emailKey: String
    /// ``OneTimeCode/hash(secret:userID:purpose:emailKey:using:)``.
    public var hash: [UInt8]
    public var expiresAt: Date
    public var mail: MailRequest

    public init(userID: String, purpose: CodePurpose, emailKey: String, hash: [UInt8], expiresAt: Date, mail: MailRequest) {
        self.userID = userID
        self.purpose = purpose
        self.emailKey = emailKey
        self.hash = hash
        self.expiresAt = expiresAt
        self.mail = mail
    }
}

extension NewCode {
    /// The stand-in a store writes and removes again, in the same transaction, when it issues no
    /// code (no account, declined, throttled): rows of the same shape as a real code and its
    /// message, so that the commit costs the same and neither the answer nor its time tells
    /// whether an account exists (contract §8.3).
    public static func placeholder(purpose: CodePurpose, emailKey: String, now: Date) -> NewCode {
        NewCode(
            userID: "", purpose: purpose, emailKey: emailKey, hash: Array(repeating: 0, count: 32), expiresAt: now,
            mail: MailRequest(
                id: "uniform-\(UUID().uuidString)", userID: nil, recipient: emailKey, template: .verificationCode,
                locale: nil, variables: ["code": "00000000", "expires_in_minutes": "0", "email": emailKey], codeExpiresAt: now))
    }
}

/// A stored code, as a spend sees it.
public struct StoredCode: Sendable {
    public var id: Int64
    public var hash: [UInt8]
    public var attempts: Int
    public var expiresAt: Date

    public init(id: Int64, hash: [UInt8], attempts: Int, expiresAt: Date) {
        self.id = id
        self.hash = hash
        self.attempts = attempts
        self.expiresAt = expiresAt
    }
}

/// How often codes of one purpose may be sent to one account (contract §8.1).
public struct CodeSendLimits: Sendable, Equatable {
    /// The least time between two sends.
    public var resendInterval: TimeInterval
    /// The most sends within an hour.
    public var maxPerHour: Int

    public init(resendInterval: TimeInterval, maxPerHour: Int) {
        self.resendInterval = resendInterval
        self.maxPerHour = maxPerHour
    }

    /// No limit (an operator's `send-recovery`).
    public static let none = CodeSendLimits(resendInterval: 0, maxPerHour: .max)

    /// Whether one more code may go out, given how many went within the last hour and when the
    /// last one did (the stores count them; the rule is here).
    public func allow(sentWithinHour: Int, lastSentAt: Date?, now: Date) -> Bool {
        guard sentWithinHour < maxPerHour else { return false }
        if let lastSentAt, now.timeIntervalSince(lastSentAt) < resendInterval { return false }
        return true
    }
}

/// What spending a code does, in the transaction that spends it.
public enum CodeEffect: Sendable {
    /// The address is verified; an `unconfirmed` user becomes `active`.
    case verifyEmail
    /// Password recovery: the new hash; the address verified; every refresh family revoked and
    /// every access token issued until now refused; the user's other live codes voided; and
    /// `notice` queued.
    case resetPassword(hash: String, notice: MailRequest)
    /// An added address becomes verified (refused with ``StorageError/alreadyExists`` when
    /// another account verified it first); `notice` goes to the primary.
    case verifyAddedEmail(notice: MailRequest)
}

/// What a spend came to.
public enum CodeSpend: Sendable, Equatable {
    /// Spent; the user as stored afterwards.
    case spent(User)
    /// Not spent, and why.
    case invalid(CodeRefusal)
}

/// Why a code was not spent.
public enum CodeRefusal: Sendable, Equatable {
    /// Wrong (the try counted), or no code was ever issued for the address (or no account has it).
    case mismatch
    /// The account's newest code expired, was spent or was replaced.
    case expired
    /// The code took its last wrong try.
    case exhausted
}

/// One-time codes (contract §8.2) and the mail that carries them.
public protocol CodeStore: Sendable {
    /// For the account whose address `emailKey` is (its primary for `verify_email`; its primary
    /// or a verified address otherwise), stores the code `make` builds (given the user and the
    /// address as stored) (voiding
    /// older codes of the same purpose and address, and their unsent mail) and queues its mail,
    /// in one transaction — unless there is no such account, `make` declines (nil), or `limits`
    /// are exceeded. Those cases do the same work (one write of the same shape, undone), so
    /// that neither the answer nor its time tells whether an account exists.
    /// Returns whether a code was issued.
    @discardableResult
    func issueCode(
        emailKey: String, purpose: CodePurpose, limits: CodeSendLimits, now: Date, _ make: @escaping @Sendable (User, String) -> NewCode?
    ) async throws -> Bool
    /// Spends the newest live code of `purpose` for address `emailKey` — of the account the
    /// address signs in (or `userID`'s, for `add_email`): when `matches` holds
    /// for it, it is spent and `effect` applied, in one transaction; when not, the wrong try
    /// counts against the code, which dies after `maxAttempts`. Two concurrent spends of one
    /// code: exactly one succeeds. Events: `user.email.verified` (when the code verified an
    /// address not yet verified); for a reset also `user.password.reset` and
    /// `user.sessions.revoked`.
    func spendCode(
        emailKey: String, userID: String?, purpose: CodePurpose, maxAttempts: Int, now: Date,
        matches: @escaping @Sendable (User, StoredCode) -> Bool, effect: CodeEffect
    ) async throws -> CodeSpend
}
