import Foundation

/// Storage for moving users in (contract §11.7): bulk imports and lazy migration.
public protocol UserImportStore: Sendable {
    /// Stores each record as ``ImportPlan/decide(_:existing:emailOwner:erased:now:)`` says, in
    /// one transaction with a savepoint per record, so that a record refused by the database
    /// (a unique address taken meanwhile) is undone alone and the others are written. Groups a
    /// record names are created when missing and the user joins them. With `dryRun` every
    /// decision is made and checked against the database, and nothing is kept. Returns one
    /// outcome per record, in order. Events: as the plan says.
    func importUsers(_ records: [ImportedUser], dryRun: Bool, now: Date) async throws -> [ImportOutcome]
    /// Gives a user that has no password yet (imported without a hash, contract §11.7) the
    /// hash of the one its old system just accepted, made permanent; only while it has none,
    /// so of two concurrent first sign-ins one sets it. Returns the user afterwards, nil when it
    /// already had a password or does not exist. No event: the user's password did not change.
    func adoptPassword(userID: String, hash: String, now: Date) async throws -> User?
}
