import Foundation
import Logging

/// Email verification and password recovery (contract §8.2, §8.3): codes sent by mail and
/// spent once. Every endpoint that takes an address from an unauthenticated caller does the
/// same work whether or not the account exists, so its answer tells nothing.
public struct LifecycleService: Sendable {
    public typealias Store = UserStore & CodeStore & UserImportStore

    public let settings: Settings
    let store: any Store
    public let mail: LifecycleMail
    let passwords: PasswordHashing
    /// Requests per client IP to the code endpoints (`code_ip_rate`, bursts of ``ipBurst``).
    let limiter: AddressLimiter
    let now: Now
    let logger: Logger
    /// Called after mail was queued, to wake the courier.
    let mailQueued: @Sendable () -> Void
    /// Told of a password set with a recovery code (``AccountService/passwordObserver``).
    let passwordObserver: (any PasswordObserver)?
    /// Lazy migration of an address a recovery names (contract §11.7), when a hook is registered.
    let migration: UserMigration?

    public static let ipBurst: Double = 10

    static func refusal(_ outcome: CodeSpend) -> CodeRefusal {
        if case .invalid(let refusal) = outcome { return refusal }
        return .mismatch
    }

    public init(
        settings: Settings, store: any Store, mail: LifecycleMail, hasher: any PasswordHasher, crypto: any CryptoPrimitives,
        now: @escaping Now, logger: Logger, mailQueued: @escaping @Sendable () -> Void, sharedLimits: (any SharedLimitStore)? = nil,
        passwordObserver: (any PasswordObserver)? = nil, userMigration: (any UserMigrationHook)? = nil
    ) {
        self.passwordObserver = passwordObserver
        self.migration = userMigration.map {
            UserMigration(hook: $0, store: store, timeout: settings.hookTimeout, crypto: crypto, now: now, logger: logger)
        }
        self.settings = settings
        self.store = store
        self.mail = mail
        self.passwords = PasswordHashing(hasher: hasher, crypto: crypto)
        self.limiter = AddressLimiter(name: "code", rate: settings.codeIPRate, burst: Self.ipBurst, shared: sharedLimits)
        self.now = now
        self.logger = logger
        self.mailQueued = mailQueued
    }

    /// One token from `clientIP`'s bucket of `code_ip_rate`, shared by every endpoint and page
    /// that sends or checks a code.
    func admit(_ clientIP: String) async throws {
        if let retryAfter = try await limiter.admit(clientIP, now: now()) { throw AccountError.tooManyRequests(retryAfter: retryAfter) }
    }

    // MARK: Verification

    /// `POST /v1/email/verification`: mails a new verification code when the address belongs
    /// to an account whose address is not verified yet (and not disabled), within the resend
    /// limits. Answers the same in every case.
    public func requestVerification(email rawEmail: String, clientIP: String) async throws {
        try await admit(clientIP)
        guard let address = EmailAddress(rawEmail) else { throw AccountError.invalidEmail }
        let (mail, now) = (mail, now())
        let issued = try await store.issueCode(emailKey: address.key, purpose: .verifyEmail, limits: settings.codeSendLimits, now: now) { user, address in
            guard !user.emailVerified, user.status != .disabled else { return nil }
            return mail.code(for: user, purpose: .verifyEmail, address: address, now: now)
        }
        if issued { mailQueued() }
    }

    /// `POST /v1/email/verify`: spends a verification code; the address becomes verified and
    /// an `unconfirmed` user `active`.
    public func verifyEmail(email rawEmail: String, code rawCode: String, clientIP: String) async throws -> User {
        try await admit(clientIP)
        guard let address = EmailAddress(rawEmail), let code = OneTimeCode(presented: rawCode) else { throw AccountError.invalidCode(.mismatch) }
        let mail = mail
        let outcome = try await store.spendCode(
            emailKey: address.key, userID: nil, purpose: .verifyEmail, maxAttempts: settings.codeMaxAttempts, now: now(),
            matches: { user, stored in
                user.status != .disabled && mail.matches(code, user: user, purpose: .verifyEmail, emailKey: address.key, stored: stored)
            },
            effect: .verifyEmail)
        guard case .spent(let user) = outcome else {
            logger.info("code refused", metadata: ["code.purpose": "verify_email"])
            throw AccountError.invalidCode(Self.refusal(outcome))
        }
        logger.info("email verified", metadata: ["user.id": "\(user.id)"])
        return user
    }

    // MARK: Recovery

    /// `POST /v1/password/forgot`: mails a recovery code to the address as stored for the
    /// account (its primary or a verified further one; never the address as typed), unless
    /// disabled or over the resend limits. With lazy migration, an address Tessera does not
    /// know is first looked up in the old system.
    /// Answers the same in every case.
    public func forgotPassword(email rawEmail: String, clientIP: String) async throws {
        try await admit(clientIP)
        guard let address = EmailAddress(rawEmail) else { throw AccountError.invalidEmail }
        if let migration, try await store.user(email: address.key) == nil {
            // An address only the old system knows: the user moves over now, without a
            // password, and sets one with the code (a hook failure is 503, never silence).
            _ = try await migration.recover(address: address)
        }
        if try await issueRecovery(emailKey: address.key, limits: settings.codeSendLimits) { mailQueued() }
    }

    /// An operator's `users send-recovery`: a recovery code now, without the resend limits.
    /// Returns false for a disabled account.
    public func sendRecovery(to user: User) async throws -> Bool {
        let issued = try await issueRecovery(emailKey: user.email.lowercased(), limits: .none)
        if issued { mailQueued() }
        return issued
    }

    private func issueRecovery(emailKey: String, limits: CodeSendLimits) async throws -> Bool {
        let (mail, now) = (mail, now())
        return try await store.issueCode(emailKey: emailKey, purpose: .recover, limits: limits, now: now) { user, address in
            guard user.status != .disabled else { return nil }
            return mail.code(for: user, purpose: .recover, address: address, now: now)
        }
    }

    /// `POST /v1/password/reset`: spends a recovery code and, in the same transaction, sets
    /// the new password, marks the address verified, revokes every token of the user, voids
    /// the user's other codes and queues a `password_changed` notice. No tokens are issued.
    /// A weak password is refused before the code is looked at (the code stays unspent). The
    /// new password is hashed whether or not the account exists, so the time tells nothing.
    public func resetPassword(email rawEmail: String, code rawCode: String, password rawPassword: String, clientIP: String) async throws -> User {
        try await admit(clientIP)
        let password = try PasswordPolicy.validate(rawPassword)
        let address = EmailAddress(rawEmail)
        var user: User?
        if let address { user = try await store.user(email: address.key) }
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        guard let address, let user, let code = OneTimeCode(presented: rawCode) else { throw AccountError.invalidCode(.mismatch) }
        let (mail, now) = (mail, now())
        let notice = mail.notice(.passwordChanged, to: user.email, about: user.email, user: user, now: now)
        let outcome = try await store.spendCode(
            emailKey: address.key, userID: nil, purpose: .recover, maxAttempts: settings.codeMaxAttempts, now: now,
            matches: { current, stored in
                current.id == user.id && current.status != .disabled
                    && mail.matches(code, user: current, purpose: .recover, emailKey: address.key, stored: stored)
            },
            effect: .resetPassword(hash: hash, notice: notice))
        guard case .spent(let updated) = outcome else {
            logger.info("code refused", metadata: ["code.purpose": "recover"])
            throw AccountError.invalidCode(Self.refusal(outcome))
        }
        mailQueued()
        await passwordObserver?.passwordAccepted(user: updated, password: password.text, onlyIfMissing: false)
        logger.notice("password reset by recovery code; every token revoked", metadata: ["user.id": "\(user.id)"])
        return updated
    }
}
