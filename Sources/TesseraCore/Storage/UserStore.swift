import Foundation

/// Storage of user accounts.
///
/// Every method that changes an account appends its events (contract §9.1, built by
/// ``NewEvent``) in the same transaction, in the order named in its documentation; a method
/// that changes nothing appends nothing.
public protocol UserStore: Sendable {
    /// Stores `user`, one pending run per post-sign-up hook name and the `verification` code
    /// with its mail, in one transaction, so a committed user always has its hook runs and its
    /// mail recorded. Throws ``StorageError/alreadyExists`` when the email (case-insensitively)
    /// is taken. Events: `user.created`.
    func createUser(_ user: User, postSignUpHooks: [String], verification: NewCode?, now: Date) async throws
    /// The user who signs in with this email, case-insensitively: its primary address or a
    /// verified further one.
    func user(email: String) async throws -> User?
    func user(id: String) async throws -> User?
    /// Replaces a user's attributes with what `decide` makes of the user as stored now, in one
    /// write transaction, so that a condition `decide` checks (the profile's version) cannot be
    /// overtaken by another change. An error `decide` throws is thrown, and nothing changes.
    /// Events: `user.updated` when an attribute's value changed.
    func updateAttributes(userID: String, now: Date, _ decide: @escaping @Sendable (User) throws -> AttributeChange) async throws -> AttributeUpdate
    /// Marks the user's email verified; an `unconfirmed` user becomes `active`. Returns the user
    /// afterwards. Throws ``StorageError/notFound`` for an unknown user. Events:
    /// `user.email.verified` when it was not verified.
    func markEmailVerified(userID: String, now: Date) async throws -> User
    /// Sets the password hash (an operator's: permanent, or temporary for one sign-in) and, in
    /// the same transaction, revokes everything the user holds (as
    /// ``revokeAllTokens(userID:now:)``). Throws ``StorageError/notFound``. Events:
    /// `user.password.changed`, `user.sessions.revoked`.
    func setPassword(userID: String, hash: String, state: PasswordState, now: Date) async throws
    /// Marks the password as needing a reset before any sign-in (Cognito's
    /// `AdminResetUserPassword`) and revokes everything the user holds. Throws
    /// ``StorageError/notFound``. Events: `user.sessions.revoked`.
    func requirePasswordReset(userID: String, now: Date) async throws
    /// Replaces a temporary password with the user's own (permanent), only while it is still
    /// temporary: of two answers to one challenge one wins. Nothing is revoked (a temporary
    /// password never signed in). Returns the user afterwards, nil when the password was not
    /// temporary. Events: `user.password.changed`.
    func replaceTemporaryPassword(userID: String, hash: String, now: Date) async throws -> User?
    /// A password change by the user: the new hash, every refresh family revoked and every
    /// access token issued up to `now` refused, the user's live codes voided and `notice`
    /// queued, in one transaction. Throws ``StorageError/notFound``. Events:
    /// `user.password.changed`, `user.sessions.revoked`.
    func changePassword(userID: String, hash: String, notice: MailRequest, now: Date) async throws
    /// How many stored password hashes there are of each bcrypt cost.
    func passwordHashCosts() async throws -> [Int: Int]
    /// Replaces the password hash (after a rehash at a new cost). No event: nothing the user
    /// or a consumer can see changed.
    func updatePasswordHash(userID: String, hash: String, now: Date) async throws
    /// Sets the user's status. Disabling also revokes everything the user holds, as
    /// ``revokeAllTokens(userID:now:)`` does, in the same transaction.
    /// Throws ``StorageError/notFound`` for an unknown user. Events: `user.disabled` and
    /// `user.sessions.revoked`, or `user.enabled`, when the status changed.
    func setStatus(userID: String, _ status: UserStatus, now: Date) async throws
    /// Global sign-out: revokes every refresh-token family of the user and every access token
    /// issued up to `now` (through the user's "not before").
    /// Throws ``StorageError/notFound`` for an unknown user. Events: `user.sessions.revoked`.
    func revokeAllTokens(userID: String, now: Date) async throws
    /// Users in creation order, after `after` (a user id), filtered by email prefix and status.
    func listUsers(limit: Int, after: String?, emailPrefix: String?, status: UserStatus?) async throws -> [User]
    /// Erases the user: the row and, by cascade, everything they hold (tokens, sessions,
    /// codes, hook runs), their other queued and sent mail, leaving a tombstone of the id so no
    /// later account takes it; `farewell` (sent to the address before erasure) is queued in
    /// the same transaction. Throws ``StorageError/notFound`` for an unknown user. The user's
    /// earlier events lose their personal members (``NewEvent/personalKeys``); then
    /// `user.deleted`.
    func deleteUser(id: String, farewell: MailRequest?, now: Date) async throws
}

/// What ``UserStore/updateAttributes(userID:now:_:)`` is told to do with the user it read.
public enum AttributeChange: Sendable, Equatable {
    case replace([String: String])
    /// Leave the user as it is (a precondition failed).
    case keep
}

/// What ``UserStore/updateAttributes(userID:now:_:)`` did.
public enum AttributeUpdate: Sendable, Equatable {
    /// Written; the user as stored afterwards.
    case updated(User)
    /// `decide` said keep; the user as stored.
    case refused(User)
    case notFound
}

extension UserStore {
    /// Sets a permanent password (``setPassword(userID:hash:state:now:)``).
    public func setPassword(userID: String, hash: String, now: Date) async throws {
        try await setPassword(userID: userID, hash: hash, state: .permanent, now: now)
    }
}
