import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: OperationalStatsStore {
    public func operationalStats() async throws -> OperationalStats {
        try await read { sql in
            var mail: [MailStatus: Int] = [:]
            for row in try await sql.rows("SELECT status, count(*) FROM mail_outbox GROUP BY status") {
                if let status = MailStatus(rawValue: try row.text(0)) { mail[status] = try row.int(1) }
            }
            let oldest = try await sql.row("SELECT min(created_at) FROM webhook_deliveries WHERE status = 'pending'")?.optionalDate(0)
            return OperationalStats(mailByStatus: mail, oldestPendingDelivery: oldest)
        }
    }
}
