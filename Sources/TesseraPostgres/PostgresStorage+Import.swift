import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: UserImportStore {
    /// Thrown out of a dry run's transaction so that it rolls back, carrying its outcomes.
    private struct DryRunRollback: Error {
        let outcomes: [ImportOutcome]
    }

    public func importUsers(_ records: [ImportedUser], dryRun: Bool, now: Date) async throws -> [ImportOutcome] {
        do {
            return try await write { [self] sql in
                var outcomes: [ImportOutcome] = []
                outcomes.reserveCapacity(records.count)
                for record in records { outcomes.append(try await importOne(sql, record, now: now)) }
                if dryRun { throw DryRunRollback(outcomes: outcomes) }
                return outcomes
            }
        } catch let rollback as DryRunRollback {
            return rollback.outcomes
        }
    }

    /// One record in its own savepoint: a constraint the plan could not foresee (an address
    /// taken by a concurrent transaction) undoes this record alone.
    private func importOne(_ sql: SQL, _ record: ImportedUser, now: Date) async throws -> ImportOutcome {
        try await sql.execute("SAVEPOINT import_user")
        do {
            let outcome = try await planAndApply(sql, record, now: now)
            if case .refused = outcome {
                try await sql.execute("ROLLBACK TO SAVEPOINT import_user")
            } else {
                try await sql.execute("RELEASE SAVEPOINT import_user")
            }
            return outcome
        } catch let error as PSQLError where Self.sqlState(error)?.hasPrefix("23") == true {
            try await sql.execute("ROLLBACK TO SAVEPOINT import_user")
            return .refused("the database refused the user (SQLSTATE \(Self.sqlState(error) ?? "?"))")
        }
    }

    private func planAndApply(_ sql: SQL, _ given: ImportedUser, now: Date) async throws -> ImportOutcome {
        let owner = try await Self.userOwning(sql, emailKey: given.email.lowercased())?.0.id
        let record = given.resolvingID(emailOwner: owner)
        let erased = try await sql.row("SELECT 1 FROM deleted_users WHERE id = \(record.id)") != nil
        let existing = try await Self.lockUser(sql, id: record.id)
        var outcome = ImportOutcome.unchanged
        switch ImportPlan.decide(record, existing: existing, emailOwner: owner, erased: erased, now: now) {
        case .refuse(let reason):
            return .refused(reason)
        case .insert(let user):
            try await sql.execute("""
                INSERT INTO users (id, email, email_key, password_hash, status, email_verified, attributes, created_at, updated_at, password_state)
                VALUES (\(user.id), \(user.email), \(user.email.lowercased()), \(user.passwordHash), \(user.status.rawValue),
                        \(user.emailVerified), \(try Self.encodeAttributes(user.attributes)), \(user.createdAt.stored), \(user.updatedAt.stored),
                        \(user.passwordState.rawValue))
                """)
            _ = try await self.record(sql, .created(user), now: now)
            outcome = .created
        case .update(let user, let events, let revoke):
            try await sql.execute("""
                UPDATE users SET email_verified = \(user.emailVerified), password_hash = \(user.passwordHash),
                    password_state = \(user.passwordState.rawValue), status = \(user.status.rawValue),
                    attributes = \(try Self.encodeAttributes(user.attributes)), updated_at = \(now.stored)
                WHERE id = \(user.id)
                """)
            for event in events { _ = try await self.record(sql, event, now: now) }
            if revoke { try await revokeAllTokens(sql, userID: user.id, reason: .disabled, now: now) { .statusChanged($0) } }
            outcome = .updated
        case .unchanged:
            break
        }
        var joined = false
        for name in record.groups {
            try await sql.execute("""
                INSERT INTO user_groups (name, created_at, updated_at) VALUES (\(name), \(now.stored), \(now.stored)) ON CONFLICT DO NOTHING
                """)
            let added = try await sql.execute("""
                INSERT INTO group_members (group_name, user_id, created_at) VALUES (\(name), \(record.id), \(now.stored)) ON CONFLICT DO NOTHING
                """)
            joined = joined || added > 0
        }
        if joined && outcome == .unchanged { outcome = .updated }
        return outcome
    }

    public func adoptPassword(userID: String, hash: String, now: Date) async throws -> User? {
        try await write { sql in
            let changed = try await sql.execute("""
                UPDATE users SET password_hash = \(hash), password_state = 'permanent', updated_at = \(now.stored)
                WHERE id = \(userID) AND password_hash IS NULL
                """)
            return changed > 0 ? try await Self.fetchUser(sql, id: userID) : nil
        }
    }
}
