import Foundation

/// Attempt counters kept in the database, so that instances sharing it count attempts
/// together (contract §10.2: brute-force limits are exact up to one attempt per instance in
/// flight). A backend used by one process only (SQLite) need not offer it: the limits are then
/// kept in memory.
public protocol SharedLimitStore: Sendable {
    /// Takes one token from the bucket `key` (filling at `rate` a second up to `burst`), in one
    /// statement. Nil when a token was taken, else the seconds until one is there.
    func takeToken(_ key: String, rate: Double, burst: Double, now: Date) async throws -> TimeInterval?
    /// The times of the account's recorded failures after `since`, oldest first.
    func loginFailures(_ key: [UInt8], since: Date) async throws -> [Date]
    /// Records a failure at `at` (one upsert), keeping the newest `keep` after `since`, the row
    /// kept until `expires`; returns the failures after `since`, oldest first.
    func recordLoginFailure(_ key: [UInt8], at: Date, since: Date, keep: Int, expires: Date) async throws -> [Date]
    /// Forgets the account's failures (after a success).
    func clearLoginFailures(_ key: [UInt8]) async throws
}

/// Token buckets per client address with one name (`login`, `signup`, `code`): in the database
/// when the storage shares limits between instances, else in memory (``RateLimiter``).
public struct AddressLimiter: Sendable {
    let name: String
    let local: RateLimiter
    let shared: (any SharedLimitStore)?

    public init(name: String, rate: Double, burst: Double, shared: (any SharedLimitStore)?) {
        self.name = name
        self.local = RateLimiter(rate: rate, burst: burst)
        self.shared = shared
    }

    /// Takes one token from `address`'s bucket; nil when admitted, else the whole seconds until
    /// a token is there again.
    public func admit(_ address: String, now: Date) async throws -> Int? {
        guard local.rate > 0 else { return nil }
        guard let shared else { return local.admit(address, now: now) }
        return try await shared.takeToken("\(name):\(address)", rate: local.rate, burst: local.burst, now: now)
            .map { max(1, Int($0.rounded(.up))) }
    }
}
