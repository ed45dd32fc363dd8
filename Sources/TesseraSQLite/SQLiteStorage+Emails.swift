import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: EmailStore {
    public func emails(userID: String) async throws -> [AccountEmail] {
        try readOnCallingThread { db in try Self.emails(db, userID: userID) }
    }

    static func emails(_ db: Database, userID: String) throws -> [AccountEmail] {
        guard let user = try fetchUser(db, id: userID) else { return [] }
        let others = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT email, verified FROM user_emails WHERE user_id = ? ORDER BY created_at, email_key"),
            arguments: [userID])
        return [AccountEmail(email: user.email, primary: true, verified: user.emailVerified)]
            + others.map { AccountEmail(email: $0[0], primary: false, verified: $0[1]) }
    }

    /// Whether `emailKey` is the primary or a verified address of an account other than `userID`.
    static func takenByAnother(_ db: Database, emailKey: String, userID: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM users WHERE email_key = ?1 AND id <> ?2)
                OR EXISTS (SELECT 1 FROM user_emails WHERE email_key = ?1 AND verified = 1 AND user_id <> ?2)
            """), arguments: [emailKey, userID]) ?? false
    }

    public func addEmail(
        userID: String, email: String, maxAddresses: Int, limits: CodeSendLimits, now: Date,
        _ make: @escaping @Sendable (User) -> NewCode
    ) async throws -> AddEmailOutcome {
        let key = email.lowercased()
        return try await write { [self] db in
            guard let user = try Self.fetchUser(db, id: userID) else { return .noSuchUser }
            let existing = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT verified FROM user_emails WHERE user_id = ? AND email_key = ?"), arguments: [userID, key])
            let takenByAnother = try Self.takenByAnother(db, emailKey: key, userID: userID)
            if user.email.lowercased() == key || existing == true || takenByAnother {
                return .taken
            }
            if existing == nil {
                let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM user_emails WHERE user_id = ?"), arguments: [userID]) ?? 0
                guard count + 1 < maxAddresses else { return .tooMany }
                try Self.cached(
                    db, sql: "INSERT INTO user_emails (user_id, email, email_key, verified, created_at) VALUES (?, ?, ?, 0, ?)",
                    arguments: [userID, email, key, now.stored])
                try recordAboutUser(db, id: userID, now: now) { .emailAdded($0, address: email) }
            }
            guard try Self.withinSendLimits(db, userID: userID, purpose: .addEmail, limits: limits, now: now) else {
                return .added(codeIssued: false)
            }
            try Self.insertCode(db, make(user), now: now)
            return .added(codeIssued: true)
        }
    }

    public func makePrimary(
        userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User) -> MailRequest
    ) async throws -> EmailChangeOutcome {
        try await write { [self] db in
            guard let user = try Self.fetchUser(db, id: userID) else { return .noSuchUser }
            if user.email.lowercased() == emailKey { return .changed(user) }
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT email, verified FROM user_emails WHERE user_id = ? AND email_key = ?"), arguments: [userID, emailKey])
            else { return .notFound }
            guard row[1] as Bool else { return .unverified }
            let newPrimary: String = row[0]
            // The old primary stays, as another address (verified or not, as it was).
            try Self.cached(db, sql: "DELETE FROM user_emails WHERE user_id = ? AND email_key = ?", arguments: [userID, emailKey])
            try Self.cached(
                db, sql: "UPDATE users SET email = ?, email_key = ?, email_verified = 1, updated_at = ? WHERE id = ?",
                arguments: [newPrimary, emailKey, now.stored, userID])
            try Self.cached(
                db, sql: "INSERT INTO user_emails (user_id, email, email_key, verified, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [userID, user.email, user.email.lowercased(), user.emailVerified, now.stored])
            try Self.enqueue(db, notice(user), codeID: nil, now: now)
            guard let updated = try Self.fetchUser(db, id: userID) else { return .noSuchUser }
            try record(db, .primaryEmailChanged(updated, previous: user.email), now: now)
            return .changed(updated)
        }
    }

    public func removeEmail(
        userID: String, emailKey: String, now: Date, _ notice: @escaping @Sendable (User, String) -> MailRequest
    ) async throws -> EmailChangeOutcome {
        try await write { [self] db in
            guard let user = try Self.fetchUser(db, id: userID) else { return .noSuchUser }
            if user.email.lowercased() == emailKey { return .isPrimary }
            guard let stored = try String.fetchOne(
                db.cachedStatement(sql: "SELECT email FROM user_emails WHERE user_id = ? AND email_key = ?"), arguments: [userID, emailKey])
            else { return .notFound }
            try Self.cached(db, sql: "DELETE FROM user_emails WHERE user_id = ? AND email_key = ?", arguments: [userID, emailKey])
            try Self.voidLiveCodes(db, condition: "user_id = ? AND email_key = ?", [userID, emailKey], now: now)
            try Self.enqueue(db, notice(user, stored), codeID: nil, now: now)
            try recordAboutUser(db, id: userID, now: now) { .emailRemoved($0, address: stored) }
            return .changed(user)
        }
    }
}
