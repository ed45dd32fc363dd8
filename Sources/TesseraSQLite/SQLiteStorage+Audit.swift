import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: AuditLog {
    public func recordAdminAction(actor: String, action: String, target: String?, details: String?, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO admin_audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
                arguments: [now.stored, actor, action, target, details])
        }
    }

    public func adminActions(limit: Int, before: Int64?) async throws -> [AuditEntry] {
        try readOnCallingThread { db in
            try Row.fetchAll(
                db, sql: "SELECT id, at, actor, action, target, details FROM admin_audit WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
                arguments: [before, limit])
                .map { row in
                    AuditEntry(id: row["id"], at: row.date("at"), actor: row["actor"], action: row["action"], target: row["target"], details: row["details"])
                }
        }
    }
}
