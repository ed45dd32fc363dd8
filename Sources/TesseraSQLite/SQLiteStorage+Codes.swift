import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: CodeStore {
    public func issueCode(
        emailKey: String, purpose: CodePurpose, limits: CodeSendLimits, now: Date, _ make: @escaping @Sendable (User, String) -> NewCode?
    ) async throws -> Bool {
        try await write { db in
            var code: NewCode?
            if let (user, address) = try Self.userOwning(db, emailKey: emailKey, primaryOnly: purpose == .verifyEmail),
               try Self.withinSendLimits(db, userID: user.id, purpose: purpose, limits: limits, now: now) {
                code = make(user, address)
            }
            guard let code else {
                // No account, declined or throttled: the same rows a real code writes (a code
                // and its message, the same tables and indexes, so the same pages in the
                // commit), removed again before the commit.
                let placeholder = NewCode.placeholder(purpose: purpose, emailKey: emailKey, now: now)
                let codeID = try Self.insertCode(db, placeholder, now: now)
                try Self.cached(db, sql: "DELETE FROM mail_outbox WHERE id = ?", arguments: [placeholder.mail.id])
                try Self.cached(db, sql: "DELETE FROM one_time_codes WHERE id = ?", arguments: [codeID])
                return false
            }
            try Self.insertCode(db, code, now: now)
            return true
        }
    }

    /// Stores `code` (voiding the older live codes of its purpose and address and their unsent
    /// mail) and queues its mail, inside the caller's transaction.
    @discardableResult
    static func insertCode(_ db: Database, _ code: NewCode, now: Date) throws -> Int64 {
        try voidLiveCodes(
            db, condition: "user_id = ? AND purpose = ? AND email_key = ?", [code.userID, code.purpose.rawValue, code.emailKey], now: now)
        try Self.cached(
            db, sql: "INSERT INTO one_time_codes (user_id, purpose, email_key, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [code.userID, code.purpose.rawValue, code.emailKey, Data(code.hash), now.stored, code.expiresAt.stored])
        let codeID = db.lastInsertedRowID
        try enqueue(db, code.mail, codeID: codeID, now: now)
        return codeID
    }

    /// Voids the live codes `condition` selects and expires their mail not yet sent.
    static func voidLiveCodes(_ db: Database, condition: String, _ arguments: StatementArguments, now: Date) throws {
        let live = "SELECT id FROM one_time_codes WHERE \(condition) AND spent_at IS NULL AND voided_at IS NULL"
        try Self.cached(
            db, sql: """
                UPDATE mail_outbox SET status = 'expired', \(scrubCode), updated_at = ?
                WHERE code_id IN (\(live)) AND status IN ('queued', 'failed')
                """,
            arguments: [now.stored] + arguments)
        try Self.cached(db, sql: "UPDATE one_time_codes SET voided_at = ? WHERE id IN (\(live))", arguments: [now.stored] + arguments)
    }

    /// The account that signs in with `emailKey` — its primary, or (unless `primaryOnly`) a
    /// verified further address — and that address as stored.
    static func userOwning(_ db: Database, emailKey: String, primaryOnly: Bool = false) throws -> (User, String)? {
        if let primary = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(userColumns) FROM users WHERE email_key = ?"), arguments: [emailKey])
            .map({ user($0) }) {
            return (primary, primary.email)
        }
        guard !primaryOnly, let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT \(userColumns(prefixedWith: "u.")), e.email AS matched_email FROM user_emails e JOIN users u ON u.id = e.user_id
                WHERE e.email_key = ? AND e.verified = 1
                """),
            arguments: [emailKey])
        else { return nil }
        return (user(row), row["matched_email"])
    }

    static func withinSendLimits(_ db: Database, userID: String, purpose: CodePurpose, limits: CodeSendLimits, now: Date) throws -> Bool {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*), MAX(created_at) FROM one_time_codes WHERE user_id = ? AND purpose = ? AND created_at > ?"),
            arguments: [userID, purpose.rawValue, now.stored - 3600])
        let sent: Int = row?[0] ?? 0
        let last: Double? = row?[1]
        return limits.allow(sentWithinHour: sent, lastSentAt: last.map(Date.init(timeIntervalSince1970:)), now: now)
    }

    public func spendCode(
        emailKey: String, userID: String?, purpose: CodePurpose, maxAttempts: Int, now: Date,
        matches: @escaping @Sendable (User, StoredCode) -> Bool, effect: CodeEffect
    ) async throws -> CodeSpend {
        try await write { [self] db in
            let owner = try userID.map { try Self.fetchUser(db, id: $0) }
                ?? Self.userOwning(db, emailKey: emailKey, primaryOnly: purpose == .verifyEmail)?.0
            guard let user = owner else { return .invalid(.mismatch) }
            guard let row = try Row.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT id, hash, attempts, expires_at FROM one_time_codes
                        WHERE user_id = ? AND purpose = ? AND email_key = ? AND spent_at IS NULL AND voided_at IS NULL
                        ORDER BY id DESC LIMIT 1
                        """),
                    arguments: [user.id, purpose.rawValue, emailKey])
            else {
                let issuedBefore = try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM one_time_codes WHERE user_id = ? AND purpose = ? AND email_key = ?)
                    """), arguments: [user.id, purpose.rawValue, emailKey]) ?? false
                return .invalid(issuedBefore ? .expired : .mismatch)
            }
            let stored = StoredCode(id: row[0], hash: [UInt8](row[1] as Data), attempts: row[2], expiresAt: Date(timeIntervalSince1970: row[3]))
            guard stored.expiresAt > now else { return .invalid(.expired) }
            guard stored.attempts < maxAttempts else { return .invalid(.exhausted) }
            guard matches(user, stored) else {
                try Self.cached(db, sql: "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?", arguments: [stored.id])
                return .invalid(.mismatch)
            }
            try Self.cached(db, sql: "UPDATE one_time_codes SET spent_at = ? WHERE id = ?", arguments: [now.stored, stored.id])
            // The code proved control of the address it went to: when that is the primary, it
            // is verified (and an unconfirmed account active).
            let verify = """
                email_verified = CASE WHEN email_key = ? THEN 1 ELSE email_verified END,
                status = CASE WHEN status = 'unconfirmed' AND email_key = ? THEN 'active' ELSE status END
                """
            // Verifying the primary is an event only when it was not verified yet.
            let verifiesPrimary = !user.emailVerified && user.email.lowercased() == emailKey
            switch effect {
            case .verifyEmail:
                try Self.cached(db, sql: "UPDATE users SET \(verify), updated_at = ? WHERE id = ?", arguments: [emailKey, emailKey, now.stored, user.id])
                if verifiesPrimary { try recordAboutUser(db, id: user.id, now: now) { .emailVerified($0, address: $0.email) } }
            case .resetPassword(let hash, let notice):
                try Self.cached(
                    db, sql: "UPDATE users SET password_hash = ?, password_state = 'permanent', \(verify), updated_at = ? WHERE id = ?",
                    arguments: [hash, emailKey, emailKey, now.stored, user.id])
                if verifiesPrimary { try recordAboutUser(db, id: user.id, now: now) { .emailVerified($0, address: $0.email) } }
                try revokeAllTokens(db, userID: user.id, reason: .passwordReset, now: now) { .passwordReset($0) }
                try Self.forgetSRPVerifier(db, userID: user.id)
                try Self.voidLiveCodes(db, condition: "user_id = ?", [user.id], now: now)
                try Self.cached(db, sql: "DELETE FROM user_emails WHERE user_id = ? AND verified = 0", arguments: [user.id])
                try Self.enqueue(db, notice, codeID: nil, now: now)
            case .verifyAddedEmail(let notice):
                do {
                    try Self.cached(
                        db, sql: "UPDATE user_emails SET verified = 1 WHERE user_id = ? AND email_key = ?", arguments: [user.id, emailKey])
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    throw StorageError.alreadyExists
                }
                guard db.changesCount == 1 else { return .invalid(.expired) }
                try Self.enqueue(db, notice, codeID: nil, now: now)
                let address = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT email FROM user_emails WHERE user_id = ? AND email_key = ?"), arguments: [user.id, emailKey]) ?? emailKey
                try recordAboutUser(db, id: user.id, now: now) { .emailVerified($0, address: address) }
            }
            guard let updated = try Self.fetchUser(db, id: user.id) else { return .invalid(.mismatch) }
            return .spent(updated)
        }
    }
}
