import Foundation

/// How many rows one sweep removed, per kind.
public struct SweepCounts: Sendable, Equatable {
    /// Refresh-token families past their absolute expiry (their tokens go with them).
    public var families = 0
    /// SSO sessions ended or expired.
    public var sessions = 0
    /// Revoked jtis whose access tokens have expired anyway, and spent challenge answers
    /// (SRP's secret blocks) past their expiry.
    public var revokedJTIs = 0
    /// Authorization codes a day past their expiry (kept that long so a late replay is still caught).
    public var codes = 0

    /// One-time codes an hour past their expiry (kept that long for the resend limits).
    public var oneTimeCodes = 0
    /// Sent and expired messages older than ``mailRetention``, and failed ones older still.
    public var mail = 0
    /// Failed messages whose code has died, scrubbed of it (not deleted).
    public var mailScrubbed = 0
    /// Events older than `event_retention` that no pending delivery needs.
    public var events = 0

    public init(
        families: Int = 0, sessions: Int = 0, revokedJTIs: Int = 0, codes: Int = 0, oneTimeCodes: Int = 0, mail: Int = 0, mailScrubbed: Int = 0,
        events: Int = 0
    ) {
        self.events = events
        self.families = families
        self.sessions = sessions
        self.revokedJTIs = revokedJTIs
        self.codes = codes
        self.oneTimeCodes = oneTimeCodes
        self.mail = mail
        self.mailScrubbed = mailScrubbed
    }

    /// How long sent and expired messages stay listed (`mail list`): 30 days.
    public static let mailRetention: TimeInterval = 30 * 86400

    public var total: Int { families + sessions + revokedJTIs + codes + oneTimeCodes + mail + mailScrubbed + events }
}

/// Removal of what can no longer be used, so that nothing grows without bound and no
/// long-dead token keeps a user id.
public protocol RetentionStore: Sendable {
    /// Deletes, in short batches, every row expired at `now` (see ``SweepCounts``).
    func sweepExpired(now: Date, eventRetention: TimeInterval) async throws -> SweepCounts
}
