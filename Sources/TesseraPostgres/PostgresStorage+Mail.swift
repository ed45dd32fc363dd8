import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: MailOutbox {
    static let mailColumns = """
        id, user_id, recipient, template, locale, variables, code_expires_at, status, attempts, next_attempt_at, last_error, created_at
        """

    /// Removes the code from a message's variables.
    static let scrubCode = "variables = (variables::jsonb - 'code')::text"

    /// Queues `mail` inside the caller's transaction (the change that causes it).
    static func enqueue(_ sql: SQL, _ mail: MailRequest, codeID: Int64?, now: Date) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let variables = String(decoding: try encoder.encode(mail.variables), as: UTF8.self)
        try await sql.execute("""
            INSERT INTO mail_outbox (id, user_id, recipient, recipient_key, template, locale, variables, code_id, code_expires_at,
                status, attempts, next_attempt_at, created_at, updated_at)
            VALUES (\(mail.id), \(mail.userID), \(mail.recipient), \(mail.recipient.lowercased()), \(mail.template.rawValue), \(mail.locale),
                    \(variables), \(codeID), \(mail.codeExpiresAt?.stored), 'queued', 0, \(now.stored), \(now.stored), \(now.stored))
            """)
    }

    /// Claims with `FOR UPDATE SKIP LOCKED`: instances claiming at once take different messages.
    public func claimMail(now: Date, limit: Int, lease: Lease) async throws -> [QueuedMail] {
        try await write { sql in
            try await sql.rows("""
                UPDATE mail_outbox SET leased_until = \(lease.until.stored), leased_by = \(lease.holder) WHERE id IN (
                    SELECT id FROM mail_outbox
                    WHERE status = 'queued' AND next_attempt_at <= \(now.stored) AND (leased_until IS NULL OR leased_until <= \(now.stored))
                    ORDER BY next_attempt_at, created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.mailColumns)
                """).map(Self.queuedMail).sorted { ($0.nextAttemptAt, $0.createdAt) < ($1.nextAttemptAt, $1.createdAt) }
        }
    }

    public func nextMailDue() async throws -> Date? {
        try await read { sql in
            try await sql.row("SELECT min(greatest(next_attempt_at, coalesce(leased_until, 0))) FROM mail_outbox WHERE status = 'queued'")?
                .optionalDate(0)
        }
    }

    public func markMailSent(id: String, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, \(unescaped: Self.scrubCode),
                    leased_until = NULL, leased_by = NULL, updated_at = \(now.stored) WHERE id = \(id)
                """)
        }
    }

    public func markMailExpired(id: String, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE mail_outbox SET status = 'expired', \(unescaped: Self.scrubCode), leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored) WHERE id = \(id) AND status = 'queued'
                """)
        }
    }

    public func markMailFailed(id: String, error: String, retryAt: Date?, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE mail_outbox SET status = \(retryAt == nil ? "failed" : "queued"), attempts = attempts + 1, last_error = \(String(error.prefix(1000))),
                    next_attempt_at = COALESCE(\(retryAt?.stored), next_attempt_at), leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored)
                WHERE id = \(id) AND status = 'queued'
                """)
        }
    }

    public func mail(id: String) async throws -> QueuedMail? {
        try await read { sql in
            try await sql.row("SELECT \(unescaped: Self.mailColumns) FROM mail_outbox WHERE id = \(id)").map(Self.queuedMail)
        }
    }

    public func listMail(status: MailStatus?, recipient: String?, limit: Int) async throws -> [QueuedMail] {
        try await read { sql in
            try await sql.rows("""
                SELECT \(unescaped: Self.mailColumns) FROM mail_outbox
                WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                    AND (\(recipient?.lowercased())::text IS NULL OR recipient_key = \(recipient?.lowercased()))
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """).map(Self.queuedMail)
        }
    }

    public func retryFailedMail(ids: [String]?, now: Date) async throws -> [String] {
        try await write { sql in
            try await sql.rows("""
                UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = \(now.stored), updated_at = \(now.stored)
                WHERE id IN (
                    SELECT id FROM mail_outbox WHERE status = 'failed'
                    AND (code_expires_at IS NULL OR (code_expires_at > \(now.stored) AND variables::jsonb ? 'code'))
                    AND (\(ids == nil) OR id = ANY (\(ids ?? []))))
                RETURNING id
                """).map { try $0.text(0) }.sorted()
        }
    }

    static func queuedMail(_ row: Cells) throws -> QueuedMail {
        let variables = (try? JSONDecoder().decode([String: String].self, from: Data(try row.text(5).utf8))) ?? [:]
        return QueuedMail(
            request: MailRequest(
                id: try row.text(0), userID: try row.optionalText(1), recipient: try row.text(2),
                template: MailTemplateName(rawValue: try row.text(3)) ?? .passwordChanged, locale: try row.optionalText(4),
                variables: variables, codeExpiresAt: try row.optionalDate(6)),
            status: MailStatus(rawValue: try row.text(7)) ?? .failed, attempts: try row.int(8),
            nextAttemptAt: try row.date(9), lastError: try row.optionalText(10), createdAt: try row.date(11))
    }
}
