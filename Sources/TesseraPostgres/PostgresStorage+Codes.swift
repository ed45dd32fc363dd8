import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: CodeStore {
    public func issueCode(
        emailKey: String, purpose: CodePurpose, limits: CodeSendLimits, now: Date, _ make: @escaping @Sendable (User, String) -> NewCode?
    ) async throws -> Bool {
        try await write { sql in
            var code: NewCode?
            if let (user, address) = try await Self.userOwning(sql, emailKey: emailKey, primaryOnly: purpose == .verifyEmail, lock: true),
               try await Self.withinSendLimits(sql, userID: user.id, purpose: purpose, limits: limits, now: now) {
                code = make(user, address)
            }
            guard let code else {
                // No account, declined or throttled: the same rows a real code writes, removed
                // again before the commit, so the answer's time does not tell the cases apart.
                let placeholder = NewCode.placeholder(purpose: purpose, emailKey: emailKey, now: now)
                let codeID = try await Self.insertCode(sql, placeholder, now: now)
                try await sql.execute("DELETE FROM mail_outbox WHERE id = \(placeholder.mail.id)")
                try await sql.execute("DELETE FROM one_time_codes WHERE id = \(codeID)")
                return false
            }
            try await Self.insertCode(sql, code, now: now)
            return true
        }
    }

    /// Stores `code` (voiding the older live codes of its purpose and address and their unsent
    /// mail) and queues its mail, inside the caller's transaction. Returns the code's id.
    @discardableResult
    static func insertCode(_ sql: SQL, _ code: NewCode, now: Date) async throws -> Int64 {
        try await voidLiveCodes(sql, userID: code.userID, purpose: code.purpose, emailKey: code.emailKey, now: now)
        guard let row = try await sql.row("""
            INSERT INTO one_time_codes (user_id, purpose, email_key, hash, created_at, expires_at)
            VALUES (\(code.userID), \(code.purpose.rawValue), \(code.emailKey), \(Data(code.hash)), \(now.stored), \(code.expiresAt.stored))
            RETURNING id
            """)
        else { throw StorageError.notFound }
        let codeID = try row.int64(0)
        try await enqueue(sql, code.mail, codeID: codeID, now: now)
        return codeID
    }

    /// Voids the user's live codes (of `purpose` and address `emailKey` when given) and expires
    /// their mail not yet sent.
    static func voidLiveCodes(_ sql: SQL, userID: String, purpose: CodePurpose? = nil, emailKey: String? = nil, now: Date) async throws {
        let voided = try await sql.rows("""
            UPDATE one_time_codes SET voided_at = \(now.stored)
            WHERE user_id = \(userID) AND (\(purpose?.rawValue)::text IS NULL OR purpose = \(purpose?.rawValue))
                AND (\(emailKey)::text IS NULL OR email_key = \(emailKey)) AND spent_at IS NULL AND voided_at IS NULL
            RETURNING id
            """).map { try $0.int64(0) }
        guard !voided.isEmpty else { return }
        try await sql.execute("""
            UPDATE mail_outbox SET status = 'expired', \(unescaped: scrubCode), updated_at = \(now.stored)
            WHERE code_id = ANY (\(voided)) AND status IN ('queued', 'failed')
            """)
    }

    /// The account that signs in with `emailKey` — its primary, or (unless `primaryOnly`) a
    /// verified further address — and that address as stored; with `lock`, the account's row is
    /// locked until the transaction ends.
    static func userOwning(_ sql: SQL, emailKey: String, primaryOnly: Bool = false, lock: Bool = false) async throws -> (User, String)? {
        let locking = lock ? "FOR UPDATE" : ""
        if let primary = try await sql.row("SELECT \(unescaped: userColumns) FROM users WHERE email_key = \(emailKey) \(unescaped: locking)") {
            let user = try user(primary)
            return (user, user.email)
        }
        guard !primaryOnly, let row = try await sql.row("""
            SELECT \(unescaped: userColumns(prefixedWith: "u.")), e.email FROM user_emails e JOIN users u ON u.id = e.user_id
            WHERE e.email_key = \(emailKey) AND e.verified \(unescaped: lock ? "FOR UPDATE OF u" : "")
            """)
        else { return nil }
        return (try user(row), try row.text(12))
    }

    static func withinSendLimits(_ sql: SQL, userID: String, purpose: CodePurpose, limits: CodeSendLimits, now: Date) async throws -> Bool {
        guard let row = try await sql.row("""
            SELECT count(*), max(created_at) FROM one_time_codes
            WHERE user_id = \(userID) AND purpose = \(purpose.rawValue) AND created_at > \(now.stored - 3600)
            """)
        else { return true }
        return limits.allow(sentWithinHour: try row.int(0), lastSentAt: try row.optionalDate(1), now: now)
    }

    public func spendCode(
        emailKey: String, userID: String?, purpose: CodePurpose, maxAttempts: Int, now: Date,
        matches: @escaping @Sendable (User, StoredCode) -> Bool, effect: CodeEffect
    ) async throws -> CodeSpend {
        try await write { [self] sql in
            let owner: User?
            if let userID {
                owner = try await Self.lockUser(sql, id: userID)
            } else {
                owner = try await Self.userOwning(sql, emailKey: emailKey, primaryOnly: purpose == .verifyEmail, lock: true)?.0
            }
            // The code row is locked: of two spends, the second waits and then finds it spent.
            guard let user = owner else { return .invalid(.mismatch) }
            guard let row = try await sql.row("""
                SELECT id, hash, attempts, expires_at FROM one_time_codes
                WHERE user_id = \(user.id) AND purpose = \(purpose.rawValue) AND email_key = \(emailKey) AND spent_at IS NULL AND voided_at IS NULL
                ORDER BY id DESC LIMIT 1 FOR UPDATE
                """)
            else {
                let issuedBefore = try await sql.row("""
                    SELECT EXISTS (SELECT 1 FROM one_time_codes WHERE user_id = \(user.id) AND purpose = \(purpose.rawValue) AND email_key = \(emailKey))
                    """)?.bool(0) ?? false
                return .invalid(issuedBefore ? .expired : .mismatch)
            }
            let stored = StoredCode(id: try row.int64(0), hash: try row.bytes(1), attempts: try row.int(2), expiresAt: try row.date(3))
            guard stored.expiresAt > now else { return .invalid(.expired) }
            guard stored.attempts < maxAttempts else { return .invalid(.exhausted) }
            guard matches(user, stored) else {
                try await sql.execute("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = \(stored.id)")
                return .invalid(.mismatch)
            }
            try await sql.execute("UPDATE one_time_codes SET spent_at = \(now.stored) WHERE id = \(stored.id)")
            // The code proved control of the address it went to: when that is the primary, it
            // is verified (and an unconfirmed account active).
            let verify = """
                email_verified = CASE WHEN email_key = $1 THEN true ELSE email_verified END,
                status = CASE WHEN status = 'unconfirmed' AND email_key = $1 THEN 'active' ELSE status END
                """
            let verifiesPrimary = !user.emailVerified && user.email.lowercased() == emailKey
            switch effect {
            case .verifyEmail:
                var update = PostgresBindings()
                update.append(emailKey)
                update.append(now.stored)
                update.append(user.id)
                try await sql.execute(PostgresQuery(unsafeSQL: "UPDATE users SET \(verify), updated_at = $2 WHERE id = $3", binds: update))
                if verifiesPrimary { try await recordAboutUser(sql, id: user.id, now: now) { .emailVerified($0, address: $0.email) } }
            case .resetPassword(let hash, let notice):
                var update = PostgresBindings()
                update.append(emailKey)
                update.append(hash)
                update.append(now.stored)
                update.append(user.id)
                try await sql.execute(PostgresQuery(
                    unsafeSQL: "UPDATE users SET password_hash = $2, password_state = 'permanent', \(verify), updated_at = $3 WHERE id = $4", binds: update))
                if verifiesPrimary { try await recordAboutUser(sql, id: user.id, now: now) { .emailVerified($0, address: $0.email) } }
                try await revokeAllTokens(sql, userID: user.id, reason: .passwordReset, now: now) { .passwordReset($0) }
                try await Self.forgetSRPVerifier(sql, userID: user.id)
                try await Self.voidLiveCodes(sql, userID: user.id, now: now)
                try await sql.execute("DELETE FROM user_emails WHERE user_id = \(user.id) AND NOT verified")
                try await Self.enqueue(sql, notice, codeID: nil, now: now)
            case .verifyAddedEmail(let notice):
                guard let address = try await sql.row("""
                    UPDATE user_emails SET verified = true WHERE user_id = \(user.id) AND email_key = \(emailKey) RETURNING email
                    """)
                else { return .invalid(.expired) }
                try await Self.enqueue(sql, notice, codeID: nil, now: now)
                let stored = try address.text(0)
                try await recordAboutUser(sql, id: user.id, now: now) { .emailVerified($0, address: stored) }
            }
            guard let updated = try await Self.fetchUser(sql, id: user.id) else { return .invalid(.mismatch) }
            return .spent(updated)
        }
    }
}
