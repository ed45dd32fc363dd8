import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: UserStore {
    static let userColumns = userColumns(prefixedWith: "")

    /// The columns ``user(_:from:)`` reads, in its order, each with `prefix` (a table alias) in front.
    static func userColumns(prefixedWith prefix: String) -> String {
        ["id", "email", "email_verified", "password_hash", "status", "attributes", "created_at", "updated_at", "tokens_not_before",
         "profile_version", "other_emails", "password_state"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    /// A user from ``userColumns`` selected in their order, starting at column `first`.
    static func user(_ cells: Cells, from first: Int = 0) throws -> User {
        let attributesJSON = try cells.text(first + 5)
        return User(
            id: try cells.text(first), email: try cells.text(first + 1), emailVerified: try cells.bool(first + 2),
            passwordHash: try cells.optionalText(first + 3), status: UserStatus(rawValue: try cells.text(first + 4)) ?? .disabled,
            attributes: attributesJSON == "{}" ? [:] : (try? JSONDecoder().decode([String: String].self, from: Data(attributesJSON.utf8))) ?? [:],
            createdAt: try cells.date(first + 6), updatedAt: try cells.date(first + 7), tokensNotBefore: try cells.optionalDate(first + 8),
            profileVersion: try cells.int64(first + 9), otherEmailCount: try cells.int(first + 10),
            passwordState: PasswordState(rawValue: try cells.text(first + 11)) ?? .resetRequired)
    }

    /// A password changed: the SRP verifier of the old one goes in the same transaction.
    static func forgetSRPVerifier(_ sql: SQL, userID: String) async throws {
        try await sql.execute("DELETE FROM srp_verifiers WHERE user_id = \(userID)")
    }

    static func fetchUser(_ sql: SQL, id: String) async throws -> User? {
        try await sql.row("SELECT \(unescaped: userColumns) FROM users WHERE id = \(id)").map { try user($0) }
    }

    /// ``fetchUser(_:id:)`` with the row locked until the transaction ends, for a change that
    /// decides from what it read.
    static func lockUser(_ sql: SQL, id: String) async throws -> User? {
        try await sql.row("SELECT \(unescaped: userColumns) FROM users WHERE id = \(id) FOR UPDATE").map { try user($0) }
    }

    static func encodeAttributes(_ attributes: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(attributes), as: UTF8.self)
    }

    public func createUser(_ user: User, postSignUpHooks: [String], verification: NewCode?, now: Date) async throws {
        let attributes = try Self.encodeAttributes(user.attributes)
        try await write { [self] sql in
            try await sql.execute("""
                INSERT INTO users (id, email, email_key, password_hash, status, email_verified, attributes, created_at, updated_at, password_state)
                VALUES (\(user.id), \(user.email), \(user.email.lowercased()), \(user.passwordHash), \(user.status.rawValue),
                        \(user.emailVerified), \(attributes), \(user.createdAt.stored), \(user.updatedAt.stored), \(user.passwordState.rawValue))
                """)
            for hook in postSignUpHooks {
                try await sql.execute("""
                    INSERT INTO hook_runs (user_id, hook, state, attempts, next_attempt_at, created_at, updated_at)
                    VALUES (\(user.id), \(hook), 'pending', 0, \(now.stored), \(now.stored), \(now.stored))
                    """)
            }
            if let verification { try await Self.insertCode(sql, verification, now: now) }
            try await record(sql, .created(user), now: now)
        }
    }

    public func user(email: String) async throws -> User? {
        try await read { sql in try await Self.userOwning(sql, emailKey: email.lowercased())?.0 }
    }

    public func user(id: String) async throws -> User? {
        try await read { sql in try await Self.fetchUser(sql, id: id) }
    }

    public func updateAttributes(
        userID: String, now: Date, _ decide: @escaping @Sendable (User) throws -> AttributeChange
    ) async throws -> AttributeUpdate {
        try await write { [self] sql in
            guard let current = try await Self.lockUser(sql, id: userID) else { return .notFound }
            guard case .replace(let attributes) = try decide(current) else { return .refused(current) }
            try await sql.execute(
                "UPDATE users SET attributes = \(try Self.encodeAttributes(attributes)), updated_at = \(now.stored) WHERE id = \(userID)")
            guard let updated = try await Self.fetchUser(sql, id: userID) else { return .notFound }
            let changed = NewEvent.changedAttributes(current.attributes, updated.attributes)
            if !changed.isEmpty { try await record(sql, .updated(updated, changed: changed), now: now) }
            return .updated(updated)
        }
    }

    public func markEmailVerified(userID: String, now: Date) async throws -> User {
        try await write { [self] sql in
            guard let before = try await Self.lockUser(sql, id: userID) else { throw StorageError.notFound }
            try await sql.execute("""
                UPDATE users SET email_verified = true, status = CASE status WHEN 'unconfirmed' THEN 'active' ELSE status END,
                    updated_at = \(now.stored) WHERE id = \(userID)
                """)
            guard let user = try await Self.fetchUser(sql, id: userID) else { throw StorageError.notFound }
            if !before.emailVerified { try await record(sql, .emailVerified(user, address: user.email), now: now) }
            return user
        }
    }

    public func setPassword(userID: String, hash: String, state: PasswordState, now: Date) async throws {
        try await write { [self] sql in
            guard try await sql.execute("""
                UPDATE users SET password_hash = \(hash), password_state = \(state.rawValue), updated_at = \(now.stored) WHERE id = \(userID)
                """) == 1
            else {
                throw StorageError.notFound
            }
            try await Self.forgetSRPVerifier(sql, userID: userID)
            try await revokeAllTokens(sql, userID: userID, reason: .passwordChanged, now: now) { .passwordChanged($0) }
        }
    }

    public func replaceTemporaryPassword(userID: String, hash: String, now: Date) async throws -> User? {
        try await write { [self] sql in
            guard let row = try await sql.row("""
                UPDATE users SET password_hash = \(hash), password_state = 'permanent', updated_at = \(now.stored)
                WHERE id = \(userID) AND password_state = 'temporary' RETURNING \(unescaped: Self.userColumns)
                """)
            else { return nil }
            let user = try Self.user(row)
            try await Self.forgetSRPVerifier(sql, userID: userID)
            _ = try await record(sql, .passwordChanged(user), now: now)
            return user
        }
    }

    public func requirePasswordReset(userID: String, now: Date) async throws {
        try await write { [self] sql in
            guard try await sql.execute("""
                UPDATE users SET password_state = 'reset_required', updated_at = \(now.stored) WHERE id = \(userID)
                """) == 1
            else {
                throw StorageError.notFound
            }
            try await Self.forgetSRPVerifier(sql, userID: userID)
            try await revokeAllTokens(sql, userID: userID, reason: .signOut, now: now) { _ in nil }
        }
    }

    public func changePassword(userID: String, hash: String, notice: MailRequest, now: Date) async throws {
        try await write { [self] sql in
            guard try await sql.execute("""
                UPDATE users SET password_hash = \(hash), password_state = 'permanent', updated_at = \(now.stored) WHERE id = \(userID)
                """) == 1
            else {
                throw StorageError.notFound
            }
            try await Self.forgetSRPVerifier(sql, userID: userID)
            try await revokeAllTokens(sql, userID: userID, reason: .passwordChanged, now: now) { .passwordChanged($0) }
            try await Self.voidLiveCodes(sql, userID: userID, now: now)
            try await Self.enqueue(sql, notice, codeID: nil, now: now)
        }
    }

    public func passwordHashCosts() async throws -> [Int: Int] {
        try await read { sql in
            var histogram: [Int: Int] = [:]
            for row in try await sql.rows("SELECT cost, hashes FROM password_hash_costs WHERE hashes > 0") {
                if let cost = Int(try row.text(0)) { histogram[cost, default: 0] += try row.int(1) }
            }
            return histogram
        }
    }

    public func updatePasswordHash(userID: String, hash: String, now: Date) async throws {
        try await write { sql in
            try await sql.execute("UPDATE users SET password_hash = \(hash), updated_at = \(now.stored) WHERE id = \(userID)")
        }
    }

    public func setStatus(userID: String, _ status: UserStatus, now: Date) async throws {
        try await write { [self] sql in
            guard let before = try await Self.lockUser(sql, id: userID) else { throw StorageError.notFound }
            try await sql.execute("UPDATE users SET status = \(status.rawValue), updated_at = \(now.stored) WHERE id = \(userID)")
            if status == .disabled && before.status == .disabled {
                try await Self.revokeAllTokens(sql, userID: userID, now: now)
            } else if status == .disabled {
                try await revokeAllTokens(sql, userID: userID, reason: .disabled, now: now) { .statusChanged($0) }
            } else if before.status != status {
                try await recordAboutUser(sql, id: userID, now: now) { .statusChanged($0) }
            }
        }
    }

    public func revokeAllTokens(userID: String, now: Date) async throws {
        try await write { [self] sql in
            guard try await Self.lockUser(sql, id: userID) != nil else { throw StorageError.notFound }
            try await revokeAllTokens(sql, userID: userID, reason: .signOut, now: now) { _ in nil }
        }
    }

    public func listUsers(limit: Int, after: String?, emailPrefix: String?, status: UserStatus?) async throws -> [User] {
        try await read { sql in
            var query = DynamicQuery("SELECT \(Self.userColumns) FROM users WHERE true")
            if let after {
                guard let created = try await sql.row("SELECT created_at FROM users WHERE id = \(after)") else { throw StorageError.notFound }
                let at = query.bind(try created.double(0)), id = query.bind(after)
                query.append("AND (created_at > \(at) OR (created_at = \(at) AND id > \(id)))")
            }
            if let emailPrefix {
                let escaped = emailPrefix.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                let pattern = query.bind(escaped + "%")
                query.append("AND email_key LIKE \(pattern) ESCAPE '\\'")
            }
            if let status {
                let value = query.bind(status.rawValue)
                query.append("AND status = \(value)")
            }
            let count = query.bind(limit)
            query.append("ORDER BY created_at, id LIMIT \(count)")
            return try await sql.rows(query.query).map { try Self.user($0) }
        }
    }

    public func deleteUser(id: String, farewell: MailRequest?, now: Date) async throws {
        try await write { [self] sql in
            try await sql.execute("DELETE FROM mail_outbox WHERE user_id = \(id)")
            try await sql.execute("DELETE FROM one_time_codes WHERE user_id = \(id)")
            guard try await sql.execute("DELETE FROM users WHERE id = \(id)") == 1 else { throw StorageError.notFound }
            try await sql.execute("INSERT INTO deleted_users (id, deleted_at) VALUES (\(id), \(now.stored)) ON CONFLICT (id) DO NOTHING")
            try await Self.redactEvents(sql, userID: id)
            try await record(sql, .deleted(userID: id), now: now)
            if var farewell {
                farewell.userID = nil
                try await Self.enqueue(sql, farewell, codeID: nil, now: now)
            }
        }
    }

    /// Revokes everything the user holds, then records the change's own event (`change`, from
    /// the user as stored afterwards, if any) and `user.sessions.revoked`, in that order.
    func revokeAllTokens(
        _ sql: SQL, userID: String, reason: NewEvent.RevocationReason, now: Date, change: @Sendable (User) -> NewEvent?
    ) async throws {
        try await Self.revokeAllTokens(sql, userID: userID, now: now)
        guard let user = try await Self.fetchUser(sql, id: userID) else { return }
        if let event = change(user) { try await record(sql, event, now: now) }
        try await record(sql, .sessionsRevoked(user, reason: reason), now: now)
    }

    /// Revokes every family of the user (their live tokens marked too, so a rotation racing
    /// this one finds its token spent) and refuses every access token issued up to `now`.
    static func revokeAllTokens(_ sql: SQL, userID: String, now: Date) async throws {
        try await sql.execute("""
            WITH revoked AS (
                UPDATE refresh_token_families SET revoked_at = \(now.stored), revoked_reason = 'user signed out everywhere'
                WHERE user_id = \(userID) AND revoked_at IS NULL RETURNING id)
            UPDATE refresh_tokens SET used_at = \(now.stored) WHERE family_id IN (SELECT id FROM revoked) AND used_at IS NULL
            """)
        try await sql.execute("UPDATE users SET tokens_not_before = \(now.stored), updated_at = \(now.stored) WHERE id = \(userID)")
    }
}
