import Foundation

/// What a metrics scrape reads from the database (contract §12.1): the mail queue by status
/// and how far webhook delivery lags behind.
public struct OperationalStats: Sendable, Equatable {
    /// Mail in the outbox per status; a status with none is absent.
    public var mailByStatus: [MailStatus: Int]
    /// When the oldest delivery still pending was queued; nil when none is pending.
    public var oldestPendingDelivery: Date?

    public init(mailByStatus: [MailStatus: Int], oldestPendingDelivery: Date?) {
        self.mailByStatus = mailByStatus
        self.oldestPendingDelivery = oldestPendingDelivery
    }
}

public protocol OperationalStatsStore: Sendable {
    /// Two aggregate reads; what a scrape costs the database.
    func operationalStats() async throws -> OperationalStats
}
