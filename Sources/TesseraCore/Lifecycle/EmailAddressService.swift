import Foundation
import Logging

/// A signed-in user's addresses (contract §8.3): add one (an `add_email` code mailed to it),
/// verify it, make a verified one primary (with the current password), remove one. Each
/// change is one transaction with the notice it causes.
public struct EmailAddressService: Sendable {
    public typealias Store = EmailStore & CodeStore

    let store: any Store
    /// Checks the current password where a change needs it.
    let accounts: AccountService
    /// The codes' settings, messages and per-IP limit, shared with verification and recovery.
    let lifecycle: LifecycleService
    let logger: Logger

    var settings: Settings { lifecycle.settings }
    var mail: LifecycleMail { lifecycle.mail }
    var now: Now { lifecycle.now }

    /// The most addresses one account may have, the primary included.
    public static let maximumAddresses = 10

    public init(store: any Store, accounts: AccountService, lifecycle: LifecycleService, logger: Logger) {
        self.store = store
        self.accounts = accounts
        self.lifecycle = lifecycle
        self.logger = logger
    }

    private func admit(_ clientIP: String) async throws {
        try await lifecycle.admit(clientIP)
    }

    private func mailQueued() { lifecycle.mailQueued() }

    /// The account's addresses, primary first; no read for an account with only its primary.
    public func emails(of user: User) async throws -> [AccountEmail] {
        guard user.otherEmailCount > 0 else { return [AccountEmail(email: user.email, primary: true, verified: user.emailVerified)] }
        return try await store.emails(userID: user.id)
    }

    /// `POST /v1/me/emails`: the address joins the account unverified, and an `add_email`
    /// code goes to it (within the resend limits). 409 when another account has it as primary
    /// or verified, or it is already one of this account's verified addresses.
    public func add(_ rawEmail: String, to user: User, clientIP: String) async throws -> String {
        try await admit(clientIP)
        guard let address = EmailAddress(rawEmail) else { throw AccountError.invalidEmail }
        let (mail, now) = (mail, now())
        let outcome = try await store.addEmail(
            userID: user.id, email: address.display, maxAddresses: Self.maximumAddresses, limits: settings.codeSendLimits, now: now
        ) { user in
            mail.code(for: user, purpose: .addEmail, address: address.display, now: now)
        }
        switch outcome {
        case .added(let codeIssued):
            if codeIssued { mailQueued() }
            logger.info("address added, unverified", metadata: ["user.id": "\(user.id)"])
            return address.display
        case .taken: throw AccountError.emailTaken
        case .tooMany: throw AccountError.invalidRequest("an account has at most \(Self.maximumAddresses) addresses")
        case .noSuchUser: throw BearerError.invalidToken(reason: "no such user")
        }
    }

    /// `POST /v1/me/emails/verify`: spends the address's `add_email` code; the address becomes
    /// verified and an `email_added` notice goes to the primary.
    public func verify(_ rawEmail: String, code rawCode: String, of user: User, clientIP: String) async throws -> String {
        try await admit(clientIP)
        guard let address = EmailAddress(rawEmail), let code = OneTimeCode(presented: rawCode) else { throw AccountError.invalidCode(.mismatch) }
        let mail = mail
        let notice = mail.notice(.emailAdded, to: user.email, about: address.display, user: user, now: now())
        let outcome: CodeSpend
        do {
            outcome = try await store.spendCode(
                emailKey: address.key, userID: user.id, purpose: .addEmail, maxAttempts: settings.codeMaxAttempts, now: now(),
                matches: { current, stored in mail.matches(code, user: current, purpose: .addEmail, emailKey: address.key, stored: stored) },
                effect: .verifyAddedEmail(notice: notice))
        } catch StorageError.alreadyExists {
            throw AccountError.emailTaken
        }
        if case .invalid(let refusal) = outcome { throw AccountError.invalidCode(refusal) }
        mailQueued()
        logger.info("address verified", metadata: ["user.id": "\(user.id)"])
        return address.display
    }

    /// `POST /v1/me/emails/primary`: with the current password, a verified address becomes the
    /// primary; an `email_changed` notice goes to the old primary.
    public func makePrimary(_ rawEmail: String, currentPassword: String, of user: User, clientIP: String) async throws -> User {
        guard let address = EmailAddress(rawEmail) else { throw AccountError.notFound }
        let checked = try await accounts.verifyPassword(email: user.email, password: currentPassword, clientIP: clientIP)
        guard checked.id == user.id else { throw AccountError.invalidCredentials }
        let (mail, now) = (mail, now())
        let outcome = try await store.makePrimary(userID: user.id, emailKey: address.key, now: now) { before in
            mail.notice(.emailChanged, to: before.email, about: address.display, user: before, now: now)
        }
        switch outcome {
        case .changed(let updated):
            mailQueued()
            logger.notice("primary address changed", metadata: ["user.id": "\(user.id)"])
            return updated
        case .notFound: throw AccountError.notFound
        case .unverified: throw AccountError.emailUnverified
        case .isPrimary: throw AccountError.primaryEmail
        case .noSuchUser: throw BearerError.invalidToken(reason: "no such user")
        }
    }

    /// `DELETE /v1/me/emails/{email}`: removes a non-primary address; an `email_removed`
    /// notice goes to it.
    public func remove(_ rawEmail: String, of user: User) async throws {
        guard let address = EmailAddress(rawEmail) else { throw AccountError.notFound }
        let (mail, now) = (mail, now())
        let outcome = try await store.removeEmail(userID: user.id, emailKey: address.key, now: now) { user, stored in
            mail.notice(.emailRemoved, to: stored, about: stored, user: user, now: now)
        }
        switch outcome {
        case .changed:
            mailQueued()
            logger.info("address removed", metadata: ["user.id": "\(user.id)"])
        case .notFound: throw AccountError.notFound
        case .isPrimary: throw AccountError.primaryEmail
        case .unverified: throw AccountError.emailUnverified
        case .noSuchUser: throw BearerError.invalidToken(reason: "no such user")
        }
    }
}
