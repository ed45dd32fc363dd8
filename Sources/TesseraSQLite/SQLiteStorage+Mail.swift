import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: MailOutbox {
    static let mailColumns = """
        id, user_id, recipient, template, locale, variables, code_expires_at, status, attempts, next_attempt_at, last_error, created_at
        """

    /// Runs `sql` through the connection's statement cache: the statements of the mail and
    /// code paths run on every request that takes an address, and parsing them each time
    /// showed in profiles.
    static func cached(_ db: Database, sql: String, arguments: StatementArguments = []) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// Queues `mail` inside the caller's transaction (the change that causes it).
    static func enqueue(_ db: Database, _ mail: MailRequest, codeID: Int64?, now: Date) throws {
        try Self.cached(
            db, sql: """
                INSERT INTO mail_outbox (id, user_id, recipient, recipient_key, template, locale, variables, code_id, code_expires_at,
                    status, attempts, next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
                """,
            arguments: [mail.id, mail.userID, mail.recipient, mail.recipient.lowercased(), mail.template.rawValue, mail.locale,
                        try encodeVariables(mail.variables), codeID, mail.codeExpiresAt?.stored, now.stored, now.stored, now.stored])
    }

    static func encodeVariables(_ variables: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(variables), as: UTF8.self)
    }

    /// Removes the code from the variables of the messages `condition` selects (bound to `arguments`).
    static let scrubCode = "variables = json_remove(variables, '$.code')"

    public func claimMail(now: Date, limit: Int, lease: Lease) async throws -> [QueuedMail] {
        try await write { db in
            try Row.fetchAll(db, sql: """
                UPDATE mail_outbox SET leased_until = ?, leased_by = ? WHERE id IN (
                    SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= ?3 AND (leased_until IS NULL OR leased_until <= ?3)
                    ORDER BY next_attempt_at, created_at LIMIT ?4)
                RETURNING \(Self.mailColumns)
                """, arguments: [lease.until.stored, lease.holder, now.stored, limit]).map(Self.queuedMail)
                .sorted { ($0.nextAttemptAt, $0.createdAt) < ($1.nextAttemptAt, $1.createdAt) }
        }
    }

    public func nextMailDue() async throws -> Date? {
        try readOnCallingThread { db in
            try Double.fetchOne(db, sql: "SELECT MIN(max(next_attempt_at, coalesce(leased_until, 0))) FROM mail_outbox WHERE status = 'queued'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func markMailSent(id: String, now: Date) async throws {
        try await write { db in
            try Self.cached(
                db, sql: """
                    UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, \(Self.scrubCode),
                        leased_until = NULL, leased_by = NULL, updated_at = ? WHERE id = ?
                    """,
                arguments: [now.stored, id])
        }
    }

    public func markMailExpired(id: String, now: Date) async throws {
        try await write { db in
            try Self.cached(
                db, sql: """
                    UPDATE mail_outbox SET status = 'expired', \(Self.scrubCode), leased_until = NULL, leased_by = NULL, updated_at = ?
                    WHERE id = ? AND status = 'queued'
                    """,
                arguments: [now.stored, id])
        }
    }

    public func markMailFailed(id: String, error: String, retryAt: Date?, now: Date) async throws {
        try await write { db in
            try Self.cached(
                db, sql: """
                    UPDATE mail_outbox SET status = ?, attempts = attempts + 1, last_error = ?,
                        next_attempt_at = COALESCE(?, next_attempt_at), leased_until = NULL, leased_by = NULL, updated_at = ?
                    WHERE id = ? AND status = 'queued'
                    """,
                arguments: [retryAt == nil ? "failed" : "queued", String(error.prefix(1000)), retryAt?.stored, now.stored, id])
        }
    }

    public func mail(id: String) async throws -> QueuedMail? {
        try readOnCallingThread { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.mailColumns) FROM mail_outbox WHERE id = ?", arguments: [id]).map(Self.queuedMail)
        }
    }

    public func listMail(status: MailStatus?, recipient: String?, limit: Int) async throws -> [QueuedMail] {
        try readOnCallingThread { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            if let recipient {
                conditions.append("recipient_key = ?")
                arguments += [recipient.lowercased()]
            }
            arguments += [limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.mailColumns) FROM mail_outbox \(filter) ORDER BY created_at DESC, id DESC LIMIT ?",
                arguments: arguments
            ).map(Self.queuedMail)
        }
    }

    public func retryFailedMail(ids: [String]?, now: Date) async throws -> [String] {
        try await write { db in
            var sql = """
                SELECT id FROM mail_outbox WHERE status = 'failed'
                AND (code_expires_at IS NULL OR (code_expires_at > ?1 AND json_extract(variables, '$.code') IS NOT NULL))
                """
            var arguments: StatementArguments = [now.stored]
            if let ids {
                sql += " AND id IN (\(ids.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(ids)
            }
            let chosen = try String.fetchAll(db, sql: sql, arguments: arguments)
            for id in chosen {
                try Self.cached(
                    db, sql: "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [now.stored, now.stored, id])
            }
            return chosen
        }
    }

    static func queuedMail(_ row: Row) -> QueuedMail {
        let variablesJSON: String = row["variables"]
        let variables = (try? JSONDecoder().decode([String: String].self, from: Data(variablesJSON.utf8))) ?? [:]
        let codeExpiry: Double? = row["code_expires_at"]
        return QueuedMail(
            request: MailRequest(
                id: row["id"], userID: row["user_id"], recipient: row["recipient"],
                template: MailTemplateName(rawValue: row["template"]) ?? .passwordChanged, locale: row["locale"],
                variables: variables, codeExpiresAt: codeExpiry.map(Date.init(timeIntervalSince1970:))),
            status: MailStatus(rawValue: row["status"]) ?? .failed, attempts: row["attempts"],
            nextAttemptAt: row.date("next_attempt_at"), lastError: row["last_error"], createdAt: row.date("created_at"))
    }
}
