import Foundation

/// What adding an address came to.
public enum AddEmailOutcome: Sendable, Equatable {
    /// Stored unverified (or already there, unverified); `codeIssued` is false past the resend limits.
    case added(codeIssued: Bool)
    /// Another account's primary or verified address — or already one of this account's.
    case taken
    /// The account has as many addresses as it may.
    case tooMany
    case noSuchUser
}

/// What making an address primary, or removing one, came to.
public enum EmailChangeOutcome: Sendable, Equatable {
    /// Done; the user as stored afterwards.
    case changed(User)
    /// Not one of the account's addresses.
    case notFound
    /// Only a verified address can be primary.
    case unverified
    /// The primary cannot be removed; make another one primary first.
    case isPrimary
    case noSuchUser
}

/// An account's addresses beyond the primary (contract §8.3). The invariants — one primary
/// per account; an address is at most one account's primary or verified address — hold for
/// any sequence of calls, concurrent or not.
public protocol EmailStore: Sendable {
    /// The account's addresses: the primary first, then the others in the order added.
    func emails(userID: String) async throws -> [AccountEmail]
    /// Adds `email` (unverified) to the account and issues its `add_email` code with the
    /// message `make` builds, in one transaction, within `limits`. Events: `user.email.added`
    /// when the address is new to the account.
    func addEmail(
        userID: String, email: String, maxAddresses: Int, limits: CodeSendLimits, now: Date,
        _ make: @escaping @Sendable (User) -> NewCode
    ) async throws -> AddEmailOutcome
    /// Makes the verified address `emailKey` the primary; the old primary stays as another
    /// address. `notice` (built from the user before the change) is queued in the same transaction.
    /// Events: `user.email.primary_changed`.
    func makePrimary(userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User) -> MailRequest) async throws -> EmailChangeOutcome
    /// Removes a non-primary address; `notice` (built from its stored form) is queued in the
    /// same transaction. Events: `user.email.removed`.
    func removeEmail(userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User, String) -> MailRequest) async throws -> EmailChangeOutcome
}
