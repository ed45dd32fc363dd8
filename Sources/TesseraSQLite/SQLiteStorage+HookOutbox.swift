import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: HookOutbox {
    static let hookRunColumns = "id, user_id, hook, state, attempts, next_attempt_at, last_error"

    public func claimHookRuns(now: Date, limit: Int, lease: Lease) async throws -> [HookRun] {
        try await write { db in
            try Row.fetchAll(db, sql: """
                UPDATE hook_runs SET leased_until = ?, leased_by = ? WHERE id IN (
                    SELECT id FROM hook_runs WHERE state = 'pending' AND next_attempt_at <= ?3 AND (leased_until IS NULL OR leased_until <= ?3)
                    ORDER BY next_attempt_at, id LIMIT ?4)
                RETURNING \(Self.hookRunColumns)
                """, arguments: [lease.until.stored, lease.holder, now.stored, limit]).map(Self.hookRun)
                .sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func nextHookRunDue() async throws -> Date? {
        try readOnCallingThread { db in
            try Double.fetchOne(db, sql: "SELECT MIN(max(next_attempt_at, coalesce(leased_until, 0))) FROM hook_runs WHERE state = 'pending'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func deadHookRuns() async throws -> [HookRun] {
        try readOnCallingThread { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.hookRunColumns) FROM hook_runs WHERE state = 'dead' ORDER BY id").map(Self.hookRun)
        }
    }

    public func retryDeadHookRuns(ids: [Int64]?, now: Date) async throws -> Int {
        try await write { db in
            let filter = ids.map { "AND id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
            try db.execute(
                sql: "UPDATE hook_runs SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE state = 'dead' \(filter)",
                arguments: [now.stored, now.stored])
            return db.changesCount
        }
    }

    public func markHookRunSucceeded(id: Int64, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE hook_runs SET state = 'succeeded', attempts = attempts + 1, last_error = NULL, leased_until = NULL, leased_by = NULL,
                        updated_at = ? WHERE id = ?
                    """,
                arguments: [now.stored, id])
        }
    }

    public func markHookRunFailed(id: Int64, error: String, retryAt: Date?, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE hook_runs SET state = ?, attempts = attempts + 1, last_error = ?,
                        next_attempt_at = COALESCE(?, next_attempt_at), leased_until = NULL, leased_by = NULL, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [retryAt == nil ? "dead" : "pending", String(error.prefix(1000)), retryAt?.stored, now.stored, id])
        }
    }

    static func hookRun(_ row: Row) -> HookRun {
        HookRun(
            id: row["id"], userID: row["user_id"], hook: row["hook"],
            state: HookRunState(rawValue: row["state"]) ?? .dead, attempts: row["attempts"],
            nextAttemptAt: row.date("next_attempt_at"), lastError: row["last_error"])
    }
}
