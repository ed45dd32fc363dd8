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
            // Fast: what the batch needs read in four queries, each record applied without a
            // savepoint. A constraint the reads could not foresee (a concurrent writer took an
            // address) aborts the transaction; the batch is then run again record by record.
            return try await run(dryRun: dryRun) { [self] sql in try await importBatch(sql, records, now: now) }
        } catch let error where Self.isConstraintViolation(error) {
            return try await run(dryRun: dryRun) { [self] sql in
                var outcomes: [ImportOutcome] = []
                outcomes.reserveCapacity(records.count)
                for record in records { outcomes.append(try await importOne(sql, record, now: now)) }
                return outcomes
            }
        }
    }

    /// Runs `body` in a write transaction, rolled back after it ran when `dryRun`.
    private func run(dryRun: Bool, _ body: @escaping @Sendable (SQL) async throws -> [ImportOutcome]) async throws -> [ImportOutcome] {
        do {
            return try await write { sql in
                let outcomes = try await body(sql)
                if dryRun { throw DryRunRollback(outcomes: outcomes) }
                return outcomes
            }
        } catch let rollback as DryRunRollback {
            return rollback.outcomes
        }
    }

    static func isConstraintViolation(_ error: any Error) -> Bool {
        if case StorageError.alreadyExists = error { return true }
        return sqlState(error)?.hasPrefix("23") == true
    }

    /// The batch with its reads done up front: the owners of its addresses, its erased ids and
    /// its existing users (locked). Records that name one user twice (an id and an address of
    /// the same account) are decided one after the other instead.
    private func importBatch(_ sql: SQL, _ given: [ImportedUser], now: Date) async throws -> [ImportOutcome] {
        let keys = given.map { $0.email.lowercased() }
        var owners: [String: String] = [:]
        for row in try await sql.rows("SELECT email_key, id FROM users WHERE email_key = ANY(\(keys))") {
            owners[try row.text(0)] = try row.text(1)
        }
        for row in try await sql.rows("SELECT email_key, user_id FROM user_emails WHERE email_key = ANY(\(keys)) AND verified") {
            let key = try row.text(0)
            if owners[key] == nil { owners[key] = try row.text(1) }
        }
        let records = given.map { $0.resolvingID(emailOwner: owners[$0.email.lowercased()]) }
        let ids = records.map(\.id)
        guard Set(ids).count == ids.count else {
            var outcomes: [ImportOutcome] = []
            for record in given { outcomes.append(try await planAndApply(sql, record, now: now)) }
            return outcomes
        }
        let erased = Set(try await sql.rows("SELECT id FROM deleted_users WHERE id = ANY(\(ids))").map { try $0.text(0) })
        var existing: [String: User] = [:]
        for row in try await sql.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = ANY(\(ids)) FOR UPDATE") {
            let user = try Self.user(row)
            existing[user.id] = user
        }
        var outcomes: [ImportOutcome] = []
        outcomes.reserveCapacity(records.count)
        for record in records {
            let plan = ImportPlan.decide(
                record, existing: existing[record.id], emailOwner: owners[record.email.lowercased()], erased: erased.contains(record.id), now: now)
            outcomes.append(try await apply(sql, plan, record, now: now))
        }
        return outcomes
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
        let plan = ImportPlan.decide(record, existing: existing, emailOwner: owner, erased: erased, now: now)
        return try await apply(sql, plan, record, now: now)
    }

    /// Carries out one record's plan and adds its groups.
    private func apply(_ sql: SQL, _ plan: ImportPlan, _ record: ImportedUser, now: Date) async throws -> ImportOutcome {
        var outcome = ImportOutcome.unchanged
        switch plan {
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
            let added = try await sql.execute("""
                WITH made AS (
                    INSERT INTO user_groups (name, created_at, updated_at) VALUES (\(name), \(now.stored), \(now.stored)) ON CONFLICT DO NOTHING
                )
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
