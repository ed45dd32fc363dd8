import Foundation
import Synchronization

/// Token buckets per client address: `rate` requests a second, in bursts of up to `burst`.
/// A rate of 0 switches the limit off. Buckets that have refilled are forgotten (swept by age),
/// so the table holds only addresses seen within the last `burst / rate` seconds.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var lastSweep = Date.distantPast
    }

    let rate: Double
    let burst: Double
    private let state = Mutex(State())

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(burst, 1)
    }

    /// Takes one token from `address`'s bucket; returns nil when admitted, else the whole
    /// seconds until a token is there again.
    public func admit(_ address: String, now: Date) -> Int? {
        guard rate > 0 else { return nil }
        let waited: Double? = state.withLock { state in
            sweep(&state, now: now)
            var bucket = state.buckets[address] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
            bucket.updated = now
            defer { state.buckets[address] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
        return waited.map { max(1, Int($0.rounded(.up))) }
    }

    /// How many addresses are remembered (tests check the table stays bounded).
    public var trackedAddresses: Int { state.withLock { $0.buckets.count } }

    /// Drops buckets full again (untouched for `burst / rate` seconds), at most once a second.
    private func sweep(_ state: inout State, now: Date) {
        guard now.timeIntervalSince(state.lastSweep) >= 1 else { return }
        state.lastSweep = now
        let refill = burst / rate
        state.buckets = state.buckets.filter { now.timeIntervalSince($0.value.updated) < refill }
    }
}
