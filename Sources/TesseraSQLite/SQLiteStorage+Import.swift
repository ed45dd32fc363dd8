import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: UserImportStore {
    public func importUsers(_ records: [ImportedUser], dryRun: Bool, now: Date) async throws -> [ImportOutcome] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try await write { [self] db in
            var outcomes: [ImportOutcome] = []
            outcomes.reserveCapacity(records.count)
            try db.inSavepoint {
                for record in records { outcomes.append(try importOne(db, record, encoder: encoder, now: now)) }
                return dryRun ? .rollback : .commit
            }
            return outcomes
        }
    }

    /// One record in its own savepoint: a constraint the plan could not foresee (an address
    /// taken by a concurrent writer) undoes this record alone.
    private func importOne(_ db: Database, _ given: ImportedUser, encoder: JSONEncoder, now: Date) throws -> ImportOutcome {
        var outcome = ImportOutcome.unchanged
        do {
            try db.inSavepoint {
                let owner = try Self.userOwning(db, emailKey: given.email.lowercased())?.0.id
                let record = given.resolvingID(emailOwner: owner)
                let erased = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM deleted_users WHERE id = ?"), arguments: [record.id]) ?? false
                let existing = try Self.fetchUser(db, id: record.id)
                switch ImportPlan.decide(record, existing: existing, emailOwner: owner, erased: erased, now: now) {
                case .refuse(let reason):
                    outcome = .refused(reason)
                    return .rollback
                case .insert(let user):
                    try db.cachedStatement(sql: """
                        INSERT INTO users (id, email, email_key, password_hash, status, email_verified, attributes, created_at, updated_at, password_state)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(
                        arguments: [user.id, user.email, user.email.lowercased(), user.passwordHash, user.status.rawValue, user.emailVerified,
                                    String(decoding: try encoder.encode(user.attributes), as: UTF8.self), user.createdAt.stored,
                                    user.updatedAt.stored, user.passwordState.rawValue])
                    try self.record(db, .created(user), now: now)
                    outcome = .created
                case .update(let user, let events, let revoke):
                    try db.execute(
                        sql: """
                            UPDATE users SET email_verified = ?, password_hash = ?, password_state = ?, status = ?, attributes = ?, updated_at = ?
                            WHERE id = ?
                            """,
                        arguments: [user.emailVerified, user.passwordHash, user.passwordState.rawValue, user.status.rawValue,
                                    String(decoding: try encoder.encode(user.attributes), as: UTF8.self), now.stored, user.id])
                    for event in events { try self.record(db, event, now: now) }
                    if revoke { try revokeAllTokens(db, userID: user.id, reason: .disabled, now: now) { .statusChanged($0) } }
                    outcome = .updated
                case .unchanged:
                    break
                }
                if try joinGroups(db, record, now: now), outcome == .unchanged { outcome = .updated }
                return .commit
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            return .refused("the database refused the user: \(Self.message(error))")
        }
        return outcome
    }

    /// Creates the record's groups that do not exist and makes the user a member of each.
    /// Returns whether a membership was added.
    private func joinGroups(_ db: Database, _ record: ImportedUser, now: Date) throws -> Bool {
        var joined = false
        for name in record.groups {
            try db.cachedStatement(sql: "INSERT INTO user_groups (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [name, now.stored, now.stored])
            try db.cachedStatement(sql: "INSERT INTO group_members (group_name, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [name, record.id, now.stored])
            joined = joined || db.changesCount > 0
        }
        return joined
    }

    public func adoptPassword(userID: String, hash: String, now: Date) async throws -> User? {
        try await write { db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, password_state = 'permanent', updated_at = ? WHERE id = ? AND password_hash IS NULL",
                arguments: [hash, now.stored, userID])
            return db.changesCount > 0 ? try Self.fetchUser(db, id: userID) : nil
        }
    }
}
