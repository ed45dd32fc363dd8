import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: EmailStore {
    public func emails(userID: String) async throws -> [AccountEmail] {
        try await read { sql in
            guard let user = try await Self.fetchUser(sql, id: userID) else { return [] }
            let others = try await sql.rows("SELECT email, verified FROM user_emails WHERE user_id = \(userID) ORDER BY created_at, email_key")
            return [AccountEmail(email: user.email, primary: true, verified: user.emailVerified)]
                + (try others.map { AccountEmail(email: try $0.text(0), primary: false, verified: try $0.bool(1)) })
        }
    }

    public func addEmail(
        userID: String, email: String, maxAddresses: Int, limits: CodeSendLimits, now: Date,
        _ make: @escaping @Sendable (User) -> NewCode
    ) async throws -> AddEmailOutcome {
        let key = email.lowercased()
        return try await write { [self] sql in
            guard let user = try await Self.lockUser(sql, id: userID) else { return .noSuchUser }
            let existing = try await sql.row("SELECT verified FROM user_emails WHERE user_id = \(userID) AND email_key = \(key)").map { try $0.bool(0) }
            let taken = try await sql.row("""
                SELECT EXISTS (SELECT 1 FROM users WHERE email_key = \(key) AND id <> \(userID))
                    OR EXISTS (SELECT 1 FROM user_emails WHERE email_key = \(key) AND verified AND user_id <> \(userID))
                """)?.bool(0) ?? false
            if user.email.lowercased() == key || existing == true || taken { return .taken }
            if existing == nil {
                let count = try await sql.row("SELECT count(*) FROM user_emails WHERE user_id = \(userID)")?.int(0) ?? 0
                guard count + 1 < maxAddresses else { return .tooMany }
                try await sql.execute("""
                    INSERT INTO user_emails (user_id, email, email_key, verified, created_at) VALUES (\(userID), \(email), \(key), false, \(now.stored))
                    """)
                try await recordAboutUser(sql, id: userID, now: now) { .emailAdded($0, address: email) }
            }
            guard try await Self.withinSendLimits(sql, userID: userID, purpose: .addEmail, limits: limits, now: now) else {
                return .added(codeIssued: false)
            }
            try await Self.insertCode(sql, make(user), now: now)
            return .added(codeIssued: true)
        }
    }

    public func makePrimary(
        userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User) -> MailRequest
    ) async throws -> EmailChangeOutcome {
        try await write { [self] sql in
            guard let user = try await Self.lockUser(sql, id: userID) else { return .noSuchUser }
            if user.email.lowercased() == emailKey { return .changed(user) }
            guard let row = try await sql.row("SELECT email, verified FROM user_emails WHERE user_id = \(userID) AND email_key = \(emailKey)")
            else { return .notFound }
            guard try row.bool(1) else { return .unverified }
            let newPrimary = try row.text(0)
            // The old primary stays, as another address (verified or not, as it was).
            try await sql.execute("DELETE FROM user_emails WHERE user_id = \(userID) AND email_key = \(emailKey)")
            try await sql.execute("""
                UPDATE users SET email = \(newPrimary), email_key = \(emailKey), email_verified = true, updated_at = \(now.stored) WHERE id = \(userID)
                """)
            try await sql.execute("""
                INSERT INTO user_emails (user_id, email, email_key, verified, created_at)
                VALUES (\(userID), \(user.email), \(user.email.lowercased()), \(user.emailVerified), \(now.stored))
                """)
            try await Self.enqueue(sql, notice(user), codeID: nil, now: now)
            guard let updated = try await Self.fetchUser(sql, id: userID) else { return .noSuchUser }
            try await record(sql, .primaryEmailChanged(updated, previous: user.email), now: now)
            return .changed(updated)
        }
    }

    public func removeEmail(
        userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User, String) -> MailRequest
    ) async throws -> EmailChangeOutcome {
        try await write { [self] sql in
            guard let user = try await Self.lockUser(sql, id: userID) else { return .noSuchUser }
            if user.email.lowercased() == emailKey { return .isPrimary }
            guard let row = try await sql.row("DELETE FROM user_emails WHERE user_id = \(userID) AND email_key = \(emailKey) RETURNING email")
            else { return .notFound }
            let stored = try row.text(0)
            try await Self.voidLiveCodes(sql, userID: userID, emailKey: emailKey, now: now)
            try await Self.enqueue(sql, notice(user, stored), codeID: nil, now: now)
            try await recordAboutUser(sql, id: userID, now: now) { .emailRemoved($0, address: stored) }
            return .changed(user)
        }
    }
}
