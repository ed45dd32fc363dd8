import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: RetentionStore {
    /// Rows deleted per transaction: short ones, so rotations never wait long behind a sweep.
    static let sweepBatch = 500

    public func sweepExpired(now: Date, eventRetention: TimeInterval) async throws -> SweepCounts {
        let at = now.stored
        var events = 0
        while true {
            let removed = try await write { sql in try await Self.pruneEvents(sql, olderThan: now - eventRetention, batch: Self.sweepBatch) }
            events += removed
            if removed < Self.sweepBatch { break }
        }
        let batch = Self.sweepBatch
        // Limits past their window: full buckets, failures no longer counted.
        _ = try await deleteInBatches { sql in
            try await sql.execute("DELETE FROM rate_buckets WHERE key IN (SELECT key FROM rate_buckets WHERE expires_at <= \(at) LIMIT \(batch))")
        }
        _ = try await deleteInBatches { sql in
            try await sql.execute("""
                DELETE FROM login_failures WHERE account_key IN (SELECT account_key FROM login_failures WHERE expires_at <= \(at) LIMIT \(batch))
                """)
        }
        return SweepCounts(
            families: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM refresh_token_families WHERE id IN (SELECT id FROM refresh_token_families WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            sessions: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM sso_sessions WHERE id IN (
                        SELECT id FROM sso_sessions WHERE ended_at IS NOT NULL OR expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            revokedJTIs: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM revoked_access_tokens WHERE jti IN (SELECT jti FROM revoked_access_tokens WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            } + deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM spent_challenges WHERE id IN (SELECT id FROM spent_challenges WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            } + deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM refresh_retries WHERE token_hash IN (SELECT token_hash FROM refresh_retries WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            codes: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM authorization_codes WHERE code_hash IN (
                        SELECT code_hash FROM authorization_codes WHERE expires_at <= \(at - 86400) LIMIT \(batch))
                    """)
            },
            oneTimeCodes: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM one_time_codes WHERE id IN (
                        SELECT id FROM one_time_codes WHERE expires_at <= \(at - 3600) AND created_at <= \(at - 3600) LIMIT \(batch))
                    """)
            },
            mail: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM mail_outbox WHERE id IN (
                        SELECT id FROM mail_outbox WHERE status IN ('sent', 'expired', 'failed') AND updated_at <= \(at - SweepCounts.mailRetention)
                        LIMIT \(batch))
                    """)
            },
            mailScrubbed: try await deleteInBatches { sql in
                try await sql.execute("""
                    UPDATE mail_outbox SET \(unescaped: Self.scrubCode) WHERE id IN (
                        SELECT id FROM mail_outbox WHERE status = 'failed' AND code_expires_at <= \(at) AND variables::jsonb ? 'code' LIMIT \(batch))
                    """)
            },
            events: events)
    }

    /// Runs `statement` in its own transaction until it touches less than a full batch;
    /// returns how many rows it touched. Tokens go with their families (ON DELETE CASCADE).
    private func deleteInBatches(_ statement: @escaping @Sendable (SQL) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write(statement)
            total += deleted
            if deleted < Self.sweepBatch { return total }
        }
    }
}
