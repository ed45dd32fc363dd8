import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: HookOutbox {
    static let hookRunColumns = "id, user_id, hook, state, attempts, next_attempt_at, last_error"

    static func hookRun(_ row: Cells) throws -> HookRun {
        HookRun(
            id: try row.int64(0), userID: try row.text(1), hook: try row.text(2), state: HookRunState(rawValue: try row.text(3)) ?? .dead,
            attempts: try row.int(4), nextAttemptAt: try row.date(5), lastError: try row.optionalText(6))
    }

    /// Claims with `FOR UPDATE SKIP LOCKED`: instances claiming at once take different runs.
    public func claimHookRuns(now: Date, limit: Int, lease: Lease) async throws -> [HookRun] {
        try await write { sql in
            try await sql.rows("""
                UPDATE hook_runs SET leased_until = \(lease.until.stored), leased_by = \(lease.holder) WHERE id IN (
                    SELECT id FROM hook_runs
                    WHERE state = 'pending' AND next_attempt_at <= \(now.stored) AND (leased_until IS NULL OR leased_until <= \(now.stored))
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.hookRunColumns)
                """).map(Self.hookRun).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func nextHookRunDue() async throws -> Date? {
        try await read { sql in
            try await sql.row("SELECT min(greatest(next_attempt_at, coalesce(leased_until, 0))) FROM hook_runs WHERE state = 'pending'")?
                .optionalDate(0)
        }
    }

    public func deadHookRuns() async throws -> [HookRun] {
        try await read { sql in
            try await sql.rows("SELECT \(unescaped: Self.hookRunColumns) FROM hook_runs WHERE state = 'dead' ORDER BY id").map(Self.hookRun)
        }
    }

    public func retryDeadHookRuns(ids: [Int64]?, now: Date) async throws -> Int {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = 'pending', attempts = 0, next_attempt_at = \(now.stored), updated_at = \(now.stored)
                WHERE state = 'dead' AND (\(ids == nil) OR id = ANY (\(ids ?? [])))
                """)
        }
    }

    public func markHookRunSucceeded(id: Int64, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = 'succeeded', attempts = attempts + 1, last_error = NULL, leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored) WHERE id = \(id)
                """)
        }
    }

    public func markHookRunFailed(id: Int64, error: String, retryAt: Date?, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = \(retryAt == nil ? "dead" : "pending"), attempts = attempts + 1, last_error = \(String(error.prefix(1000))),
                    next_attempt_at = COALESCE(\(retryAt?.stored), next_attempt_at), leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored)
                WHERE id = \(id)
                """)
        }
    }
}
