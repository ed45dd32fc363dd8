import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: UserStore {
    static let userColumns = userColumns(prefixedWith: "")

    /// The columns ``user(_:from:)`` reads, in its order, each with `prefix` (a table alias) in front.
    static func userColumns(prefixedWith prefix: String) -> String {
        ["id", "email", "email_verified", "password_hash", "status", "attributes", "created_at", "updated_at", "tokens_not_before",
         "profile_version", "other_emails", "password_state"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    public func createUser(_ user: User, postSignUpHooks: [String], verification: NewCode?, now: Date) async throws {
        let attributes = String(decoding: try JSONEncoder().encode(user.attributes), as: UTF8.self)
        do {
            try await write { [self] db in
                try db.execute(
                    sql: """
                        INSERT INTO users (id, email, email_key, password_hash, status, email_verified, attributes, created_at, updated_at, password_state)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [user.id, user.email, user.email.lowercased(), user.passwordHash, user.status.rawValue,
                                user.emailVerified, attributes, user.createdAt.stored, user.updatedAt.stored, user.passwordState.rawValue])
                for hook in postSignUpHooks {
                    try db.execute(
                        sql: """
                            INSERT INTO hook_runs (user_id, hook, state, attempts, next_attempt_at, created_at, updated_at)
                            VALUES (?, ?, 'pending', 0, ?, ?, ?)
                            """,
                        arguments: [user.id, hook, now.stored, now.stored, now.stored])
                }
                if let verification { try Self.insertCode(db, verification, now: now) }
                try record(db, .created(user), now: now)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                    || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY || error.extendedResultCode == .SQLITE_CONSTRAINT_TRIGGER {
            throw StorageError.alreadyExists
        }
    }

    public func user(email: String) async throws -> User? {
        try readOnCallingThread { db in try Self.userOwning(db, emailKey: email.lowercased())?.0 }
    }

    public func user(id: String) async throws -> User? {
        try readOnCallingThread { db in try Self.fetchUser(db, id: id) }
    }

    public func updateAttributes(
        userID: String, now: Date, _ decide: @escaping @Sendable (User) throws -> AttributeChange
    ) async throws -> AttributeUpdate {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try await write { [self] db in
            guard let current = try Self.fetchUser(db, id: userID) else { return .notFound }
            guard case .replace(let attributes) = try decide(current) else { return .refused(current) }
            try db.execute(
                sql: "UPDATE users SET attributes = ?, updated_at = ? WHERE id = ?",
                arguments: [String(decoding: try encoder.encode(attributes), as: UTF8.self), now.stored, userID])
            // The trigger of migration 0008 moved profile_version if anything changed.
            guard let updated = try Self.fetchUser(db, id: userID) else { return .notFound }
            let changed = NewEvent.changedAttributes(current.attributes, updated.attributes)
            if !changed.isEmpty { try record(db, .updated(updated, changed: changed), now: now) }
            return .updated(updated)
        }
    }

    public func markEmailVerified(userID: String, now: Date) async throws -> User {
        try await write { [self] db in
            guard let before = try Self.fetchUser(db, id: userID) else { throw StorageError.notFound }
            try db.execute(
                sql: """
                    UPDATE users SET email_verified = 1, status = CASE status WHEN 'unconfirmed' THEN 'active' ELSE status END,
                        updated_at = ? WHERE id = ?
                    """,
                arguments: [now.stored, userID])
            guard db.changesCount == 1, let user = try Self.fetchUser(db, id: userID) else { throw StorageError.notFound }
            if !before.emailVerified { try record(db, .emailVerified(user, address: user.email), now: now) }
            return user
        }
    }

    public func setPassword(userID: String, hash: String, state: PasswordState, now: Date) async throws {
        try await write { [self] db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, password_state = ?, updated_at = ? WHERE id = ?",
                arguments: [hash, state.rawValue, now.stored, userID])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            try Self.forgetSRPVerifier(db, userID: userID)
            try revokeAllTokens(db, userID: userID, reason: .passwordChanged, now: now) { .passwordChanged($0) }
        }
    }

    public func replaceTemporaryPassword(userID: String, hash: String, now: Date) async throws -> User? {
        try await write { [self] db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, password_state = 'permanent', updated_at = ? WHERE id = ? AND password_state = 'temporary'",
                arguments: [hash, now.stored, userID])
            guard db.changesCount == 1, let user = try Self.fetchUser(db, id: userID) else { return nil }
            try Self.forgetSRPVerifier(db, userID: userID)
            try record(db, .passwordChanged(user), now: now)
            return user
        }
    }

    public func requirePasswordReset(userID: String, now: Date) async throws {
        try await write { [self] db in
            try db.execute(sql: "UPDATE users SET password_state = 'reset_required', updated_at = ? WHERE id = ?", arguments: [now.stored, userID])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            try Self.forgetSRPVerifier(db, userID: userID)
            try revokeAllTokens(db, userID: userID, reason: .signOut, now: now) { _ in nil }
        }
    }

    public func changePassword(userID: String, hash: String, notice: MailRequest, now: Date) async throws {
        try await write { [self] db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, password_state = 'permanent', updated_at = ? WHERE id = ?",
                arguments: [hash, now.stored, userID])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            try Self.forgetSRPVerifier(db, userID: userID)
            try revokeAllTokens(db, userID: userID, reason: .passwordChanged, now: now) { .passwordChanged($0) }
            try Self.voidLiveCodes(db, condition: "user_id = ?", [userID], now: now)
            try Self.enqueue(db, notice, codeID: nil, now: now)
        }
    }

    public func passwordHashCosts() async throws -> [Int: Int] {
        // Kept by triggers on users (migration 0007): a few rows, whatever the number of users.
        try readOnCallingThread { db in
            var histogram: [Int: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT cost, hashes FROM password_hash_costs WHERE hashes > 0") {
                if let cost = Int(row[0] as String) { histogram[cost, default: 0] += row[1] }
            }
            return histogram
        }
    }

    public func updatePasswordHash(userID: String, hash: String, now: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", arguments: [hash, now.stored, userID])
        }
    }

    public func setStatus(userID: String, _ status: UserStatus, now: Date) async throws {
        try await write { [self] db in
            guard let before = try Self.fetchUser(db, id: userID) else { throw StorageError.notFound }
            try db.execute(sql: "UPDATE users SET status = ?, updated_at = ? WHERE id = ?", arguments: [status.rawValue, now.stored, userID])
            if status == .disabled && before.status == .disabled {
                try Self.revokeAllTokens(db, userID: userID, now: now)
            } else if status == .disabled {
                try revokeAllTokens(db, userID: userID, reason: .disabled, now: now) { .statusChanged($0) }
            } else if before.status != status {
                try recordAboutUser(db, id: userID, now: now) { .statusChanged($0) }
            }
        }
    }

    public func revokeAllTokens(userID: String, now: Date) async throws {
        try await write { [self] db in
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM users WHERE id = ?"), arguments: [userID]) == true else {
                throw StorageError.notFound
            }
            try revokeAllTokens(db, userID: userID, reason: .signOut, now: now) { _ in nil }
        }
    }

    public func listUsers(limit: Int, after: String?, emailPrefix: String?, status: UserStatus?) async throws -> [User] {
        try readOnCallingThread { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let after {
                guard let created = try Double.fetchOne(db.cachedStatement(sql: "SELECT created_at FROM users WHERE id = ?"), arguments: [after]) else {
                    throw StorageError.notFound
                }
                conditions.append("(created_at > ? OR (created_at = ? AND id > ?))")
                arguments += [created, created, after]
            }
            if let emailPrefix {
                let escaped = emailPrefix.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                conditions.append("email_key LIKE ? ESCAPE '\\'")
                arguments += [escaped + "%"]
            }
            if let status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT \(Self.userColumns) FROM users \(filter) ORDER BY created_at, id LIMIT ?", arguments: arguments)
                .map { Self.user($0) }
        }
    }

    public func deleteUser(id: String, farewell: MailRequest?, now: Date) async throws {
        try await write { [self] db in
            // The mail first: deleting the user would set its user_id to NULL.
            try db.execute(sql: "DELETE FROM mail_outbox WHERE user_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM one_time_codes WHERE user_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { throw StorageError.notFound }
            try db.execute(sql: "INSERT OR IGNORE INTO deleted_users (id, deleted_at) VALUES (?, ?)", arguments: [id, now.stored])
            try Self.redactEvents(db, userID: id)
            try record(db, .deleted(userID: id), now: now)
            if var farewell {
                farewell.userID = nil
                try Self.enqueue(db, farewell, codeID: nil, now: now)
            }
        }
    }

    /// Revokes everything the user holds, then records the change's own event (`change`, from
    /// the user as stored afterwards, if any) and `user.sessions.revoked`, in that order.
    func revokeAllTokens(
        _ db: Database, userID: String, reason: NewEvent.RevocationReason, now: Date, change: (User) -> NewEvent?
    ) throws {
        try Self.revokeAllTokens(db, userID: userID, now: now)
        guard let user = try Self.fetchUser(db, id: userID) else { return }
        if let event = change(user) { try record(db, event, now: now) }
        try record(db, .sessionsRevoked(user, reason: reason), now: now)
    }

    static func revokeAllTokens(_ db: Database, userID: String, now: Date) throws {
        try db.execute(
            sql: "UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = 'user signed out everywhere' WHERE user_id = ? AND revoked_at IS NULL",
            arguments: [now.stored, userID])
        try db.execute(sql: "UPDATE users SET tokens_not_before = ?, updated_at = ? WHERE id = ?", arguments: [now.stored, now.stored, userID])
    }

    /// A password changed: the SRP verifier of the old one goes in the same transaction (the
    /// Cognito API computes the new one from the new password, contract §11.6).
    static func forgetSRPVerifier(_ db: Database, userID: String) throws {
        try db.execute(sql: "DELETE FROM srp_verifiers WHERE user_id = ?", arguments: [userID])
    }

    static func fetchUser(_ db: Database, id: String) throws -> User? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(userColumns) FROM users WHERE id = ?"), arguments: [id]).map { user($0) }
    }

    /// A user from ``userColumns`` selected in their order, starting at column `first`. Read by
    /// position: looking columns up by name compares strings on every token check.
    static func user(_ columns: some ColumnValues, from first: Int = 0) -> User {
        let attributesJSON = columns.text(at: first + 5)
        return User(
            id: columns.text(at: first),
            email: columns.text(at: first + 1),
            emailVerified: columns.bool(at: first + 2),
            passwordHash: columns.optionalText(at: first + 3),
            status: UserStatus(rawValue: columns.text(at: first + 4)) ?? .disabled,
            // Most users have none: skip the decoder for the empty object on every token check.
            attributes: attributesJSON == "{}" ? [:] : (try? JSONDecoder().decode([String: String].self, from: Data(attributesJSON.utf8))) ?? [:],
            createdAt: columns.date(at: first + 6),
            updatedAt: columns.date(at: first + 7),
            tokensNotBefore: columns.optionalDate(at: first + 8),
            profileVersion: columns.int64(at: first + 9),
            otherEmailCount: Int(columns.int64(at: first + 10)),
            passwordState: PasswordState(rawValue: columns.text(at: first + 11)) ?? .resetRequired)
    }
}
