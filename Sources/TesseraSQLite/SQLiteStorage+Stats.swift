import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: OperationalStatsStore {
    public func operationalStats() async throws -> OperationalStats {
        try readOnCallingThread { db in
            var mail: [MailStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM mail_outbox GROUP BY status") {
                if let status = MailStatus(rawValue: row[0]) { mail[status] = row[1] }
            }
            let oldest = try Double.fetchOne(db, sql: "SELECT min(created_at) FROM webhook_deliveries WHERE status = 'pending'")
            return OperationalStats(mailByStatus: mail, oldestPendingDelivery: oldest.map(Date.init(timeIntervalSince1970:)))
        }
    }
}
