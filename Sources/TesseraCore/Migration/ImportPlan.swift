import Foundation

/// What storing one ``ImportedUser`` must do, decided from what the database holds now: the
/// one place the import's rules live, so that every storage backend applies the same ones
/// inside its own transaction.
public enum ImportPlan: Sendable, Equatable {
    /// A new user, with the event `user.created`.
    case insert(User)
    /// The stored user becomes `user`. `events` are appended in order; `revoke` says the user
    /// was disabled by this import, so everything it holds is revoked as a disable does (with
    /// its events `user.disabled` and `user.sessions.revoked`, after `events`).
    case update(User, events: [NewEvent], revoke: Bool)
    case unchanged
    case refuse(String)

    /// The decision for `record`, given the user stored under its id (`existing`), the id of
    /// the account that signs in with its email (`emailOwner`, nil when none) and whether its
    /// id belonged to an erased user.
    ///
    /// - An erased user's id is never reused, and an address belongs to one account.
    /// - A re-run updates what the file says of an existing user: attributes, status, a
    ///   verification (never an un-verification) and groups (added, never removed). It never
    ///   changes the address (that is the account's own, proven through §8) nor a password the
    ///   user already has (a re-run of an old file must not undo a change made since).
    public static func decide(_ record: ImportedUser, existing: User?, emailOwner: String?, erased: Bool, now: Date) -> ImportPlan {
        if erased { return .refuse("user id \(record.id) belonged to an erased user and is never reused") }
        if let emailOwner, emailOwner != record.id {
            return .refuse("email \(record.email) already belongs to another user (\(emailOwner))")
        }
        guard var user = existing else {
            let created = record.createdAt ?? now
            return .insert(User(
                id: record.id, email: record.email, emailVerified: record.emailVerified, passwordHash: record.passwordHash,
                status: record.status, attributes: record.attributes, createdAt: created, updatedAt: now,
                passwordState: record.passwordHash == nil ? .resetRequired : .permanent))
        }
        guard user.email.lowercased() == record.email.lowercased() else {
            return .refuse("user \(record.id) exists with another email; an import does not change an account's address")
        }
        var events: [NewEvent] = []
        let before = user
        if record.emailVerified && !user.emailVerified {
            user.emailVerified = true
            if user.status == .unconfirmed && record.status != .disabled { user.status = .active }
        }
        if user.passwordHash == nil, let hash = record.passwordHash {
            user.passwordHash = hash
            user.passwordState = .permanent
        }
        let statusBefore = user.status
        if record.status != user.status && !(record.status == .unconfirmed && user.emailVerified) { user.status = record.status }
        if user.attributes != record.attributes { user.attributes = record.attributes }
        guard user != before else { return .unchanged }
        user.updatedAt = now
        if user.emailVerified && !before.emailVerified { events.append(.emailVerified(user, address: user.email)) }
        let changed = NewEvent.changedAttributes(before.attributes, user.attributes)
        if !changed.isEmpty { events.append(.updated(user, changed: changed)) }
        let disables = user.status == .disabled && statusBefore != .disabled
        if !disables && user.status != statusBefore && statusBefore == .disabled {
            events.append(.statusChanged(user))
        }
        return .update(user, events: events, revoke: disables)
    }
}
