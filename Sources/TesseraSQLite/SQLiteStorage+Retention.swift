import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: RetentionStore {
    /// Rows deleted per write: short transactions, so rotations never wait long behind a sweep.
    static let sweepBatch = 500

    public func sweepExpired(now: Date, eventRetention: TimeInterval) async throws -> SweepCounts {
        let at = now.stored
        var events = 0
        while true {
            let removed = try await write { db in try Self.pruneEvents(db, olderThan: now - eventRetention, batch: Self.sweepBatch) }
            events += removed
            if removed < Self.sweepBatch { break }
        }
        return SweepCounts(
            families: try await deleteInBatches("""
                DELETE FROM refresh_token_families WHERE id IN (SELECT id FROM refresh_token_families WHERE expires_at <= ? LIMIT ?)
                """, at),
            sessions: try await deleteInBatches("""
                DELETE FROM sso_sessions WHERE id IN (
                    SELECT id FROM sso_sessions WHERE ended_at IS NOT NULL
                    UNION SELECT id FROM sso_sessions WHERE expires_at <= ?1 LIMIT ?2)
                """, at),
            revokedJTIs: try await deleteInBatches("""
                DELETE FROM revoked_access_tokens WHERE jti IN (SELECT jti FROM revoked_access_tokens WHERE expires_at <= ? LIMIT ?)
                """, at) + deleteInBatches("""
                DELETE FROM spent_challenges WHERE id IN (SELECT id FROM spent_challenges WHERE expires_at <= ? LIMIT ?)
                """, at) + deleteInBatches("""
                DELETE FROM refresh_retries WHERE token_hash IN (SELECT token_hash FROM refresh_retries WHERE expires_at <= ? LIMIT ?)
                """, at),
            codes: try await deleteInBatches("""
                DELETE FROM authorization_codes WHERE code_hash IN (SELECT code_hash FROM authorization_codes WHERE expires_at <= ? LIMIT ?)
                """, at - 86400),
            oneTimeCodes: try await deleteInBatches("""
                DELETE FROM one_time_codes WHERE id IN (
                    SELECT id FROM one_time_codes WHERE expires_at <= ?1 AND created_at <= ?1 LIMIT ?2)
                """, at - 3600),
            mail: try await deleteInBatches("""
                DELETE FROM mail_outbox WHERE id IN (
                    SELECT id FROM mail_outbox WHERE status IN ('sent', 'expired', 'failed') AND updated_at <= ?1 LIMIT ?2)
                """, at - SweepCounts.mailRetention),
            mailScrubbed: try await deleteInBatches("""
                UPDATE mail_outbox SET \(Self.scrubCode) WHERE id IN (
                    SELECT id FROM mail_outbox WHERE status = 'failed' AND code_expires_at <= ?1
                    AND json_extract(variables, '$.code') IS NOT NULL LIMIT ?2)
                """, at),
            events: events)
    }

    /// Runs `sql` (bound to `cutoff` and the batch size) until a batch deletes less than a full
    /// batch; returns how many rows went. Tokens go with their families (ON DELETE CASCADE).
    private func deleteInBatches(_ sql: String, _ cutoff: Double) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write { db in
                try db.execute(sql: sql, arguments: [cutoff, Self.sweepBatch])
                return db.changesCount
            }
            total += deleted
            if deleted < Self.sweepBatch { return total }
        }
    }
}
