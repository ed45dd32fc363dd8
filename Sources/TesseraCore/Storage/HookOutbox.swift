import Foundation

/// Where a post-sign-up hook run stands.
public enum HookRunState: String, Sendable, Codable {
    case pending, succeeded, dead
}

/// One recorded run of a post-sign-up hook for one user.
public struct HookRun: Sendable, Equatable {
    public var id: Int64
    public var userID: String
    public var hook: String
    public var state: HookRunState
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?

    public init(id: Int64, userID: String, hook: String, state: HookRunState, attempts: Int, nextAttemptAt: Date, lastError: String?) {
        self.id = id
        self.userID = userID
        self.hook = hook
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

/// The durable queue of post-sign-up hook runs.
public protocol HookOutbox: Sendable {
    /// Claims pending runs due at `now` and not leased (or whose lease has run out), oldest
    /// first, under `lease`: no other caller, on any instance, claims them until it ends or the
    /// run is marked.
    func claimHookRuns(now: Date, limit: Int, lease: Lease) async throws -> [HookRun]
    /// When the earliest pending run is due (or its lease ends), if any.
    func nextHookRunDue() async throws -> Date?
    /// Succeeded; its lease ends.
    func markHookRunSucceeded(id: Int64, now: Date) async throws
    /// Dead-lettered runs, oldest first.
    func deadHookRuns() async throws -> [HookRun]
    /// Puts dead-lettered runs (these ids, or all when nil) back in the queue, due now, with
    /// their attempts reset. Returns how many were re-queued.
    func retryDeadHookRuns(ids: [Int64]?, now: Date) async throws -> Int
    /// Records a failed attempt: pending again at `retryAt`, or dead-lettered when nil; its lease ends.
    func markHookRunFailed(id: Int64, error: String, retryAt: Date?, now: Date) async throws
}
