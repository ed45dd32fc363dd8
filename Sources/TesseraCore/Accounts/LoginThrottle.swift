import Foundation
import Synchronization

/// Brute-force protection for password logins, in memory:
/// - per account (keyed by the lower-cased email, whether or not the account exists, so the
///   limit reveals nothing): at most `maxFailures` failures within `window`; a success resets;
/// - per client IP: at most `ipRate` attempts per second (a token bucket with one second of
///   burst).
/// A value of 0 switches a limit off.
public final class LoginThrottle: Sendable {
    struct State {
        var failures: [String: [Date]] = [:]
        var buckets: [String: (tokens: Double, updated: Date)] = [:]
    }

    let maxFailures: Int
    let window: TimeInterval
    let ipRate: Double
    private let state = Mutex(State())
    /// Entries kept before stale ones are swept.
    static let sweepThreshold = 50_000

    public init(maxFailures: Int, window: TimeInterval, ipRate: Double) {
        self.maxFailures = maxFailures
        self.window = window
        self.ipRate = ipRate
    }

    public convenience init(settings: Settings) {
        self.init(maxFailures: settings.loginMaxFailures, window: settings.loginFailureWindow, ipRate: settings.loginIPRate)
    }

    /// Takes one attempt from the IP's bucket, or throws `too_many_attempts`.
    public func admitAttempt(fromIP ip: String, now: Date) throws(AccountError) {
        guard ipRate > 0 else { return }
        let capacity = max(ipRate, 1)
        let waited: Double? = state.withLock { state in
            if state.buckets.count > Self.sweepThreshold {
                state.buckets = state.buckets.filter { now.timeIntervalSince($0.value.updated) < 1 }
            }
            var bucket = state.buckets[ip] ?? (capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + now.timeIntervalSince(bucket.updated) * ipRate)
            bucket.updated = now
            defer { state.buckets[ip] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / ipRate }
            bucket.tokens -= 1
            return nil
        }
        if let waited { throw .tooManyAttempts(retryAfter: max(1, Int(waited.rounded(.up)))) }
    }

    /// Throws `too_many_attempts` while the account has too many recent failures.
    public func checkAccount(_ key: String, now: Date) throws(AccountError) {
        guard maxFailures > 0 else { return }
        let retryAfter: TimeInterval? = state.withLock { state in
            let recent = (state.failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            state.failures[key] = recent.isEmpty ? nil : recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return window - now.timeIntervalSince(oldest)
        }
        if let retryAfter { throw .tooManyAttempts(retryAfter: max(1, Int(retryAfter.rounded(.up)))) }
    }

    public func recordFailure(_ key: String, now: Date) {
        guard maxFailures > 0 else { return }
        state.withLock { state in
            if state.failures.count > Self.sweepThreshold {
                state.failures = state.failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
            }
            var recent = (state.failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            state.failures[key] = Array(recent.suffix(maxFailures))
        }
    }

    public func recordSuccess(_ key: String) {
        _ = state.withLock { $0.failures.removeValue(forKey: key) }
    }
}
