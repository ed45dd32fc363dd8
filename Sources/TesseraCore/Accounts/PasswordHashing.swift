import Foundation
import Synchronization

/// Passwords to stored hashes and back: the scheme of ``PasswordHashScheme`` over bcrypt
/// (``PasswordHasher``), and when a stored hash is due for replacement.
public struct PasswordHashing: Sendable {
    let hasher: any PasswordHasher
    let crypto: any CryptoPrimitives

    public init(hasher: any PasswordHasher, crypto: any CryptoPrimitives) {
        self.hasher = hasher
        self.crypto = crypto
    }

    /// The hash to store for `password`, under the current scheme.
    public func hash(_ password: Password, cost: Int, priority: HashingPriority) async throws(AccountError) -> String {
        // The current scheme takes every password.
        let input = password.bcryptInput(for: .current, using: crypto)!
        return PasswordHashScheme.stored(current: try await hasher.hash(input, cost: cost, priority: priority))
    }

    /// Whether `password` matches `stored`. Without a password or a stored hash, or with a
    /// password the stored scheme refuses, bcrypt runs all the same (against a hash nothing
    /// matches, at `dummyCost`, or against the stored hash), so every answer costs one bcrypt.
    public func verify(_ password: Password?, against stored: String?, dummyCost: Int) async throws(AccountError) -> Bool {
        guard let stored, let password else {
            _ = try await hasher.verify("", against: hasher.unmatchableHash(cost: dummyCost))
            return false
        }
        let (scheme, bcrypt) = PasswordHashScheme.parse(stored)
        guard let input = password.bcryptInput(for: scheme, using: crypto) else {
            _ = try await hasher.verify("", against: bcrypt)
            return false
        }
        return try await hasher.verify(input, against: bcrypt)
    }

    /// Whether a stored hash should be replaced after a successful login: another scheme or
    /// another cost than `cost`.
    public func needsRehash(_ stored: String, cost: Int) -> Bool {
        let (scheme, bcrypt) = PasswordHashScheme.parse(stored)
        return scheme != .current || hasher.cost(of: bcrypt) != cost
    }
}

/// The bcrypt costs the stored hashes have, as a histogram read from the database now and
/// then, so that an unknown email is checked against a dummy hash of a cost drawn like a real
/// user's: after `bcrypt_cost` changes, the users not yet rehashed take as long as before, and
/// so does a guessed email.
public final class PasswordCosts: Sendable {
    private struct State {
        var histogram: [Int: Int] = [:]
        var loadedAt = Date.distantPast
        var loading = false
    }

    let fallback: Int
    let maxAge: TimeInterval
    let load: @Sendable () async throws -> [Int: Int]
    private let state = Mutex(State())

    /// - Parameters:
    ///   - fallback: the cost while no stored hash is known (the configured cost).
    ///   - maxAge: how long a histogram is used before it is read again (in the background).
    ///   - load: reads the histogram (cost → number of stored hashes).
    public init(fallback: Int, maxAge: TimeInterval = 300, load: @escaping @Sendable () async throws -> [Int: Int]) {
        self.fallback = fallback
        self.maxAge = maxAge
        self.load = load
    }

    /// Reads the histogram now.
    public func reload(now: Date) async {
        guard let histogram = try? await load() else {
            state.withLock { $0.loading = false }
            return
        }
        state.withLock { $0 = State(histogram: histogram, loadedAt: now, loading: false) }
    }

    /// A cost drawn with the stored hashes' frequencies; starts a reload when the histogram is old.
    public func draw(now: Date) -> Int {
        let (histogram, stale) = state.withLock { state -> ([Int: Int], Bool) in
            let stale = !state.loading && now.timeIntervalSince(state.loadedAt) > maxAge
            if stale { state.loading = true }
            return (state.histogram, stale)
        }
        if stale { Task { await reload(now: now) } }
        let total = histogram.values.reduce(0, +)
        guard total > 0 else { return fallback }
        var pick = Int.random(in: 0..<total)
        for (cost, count) in histogram.sorted(by: { $0.key < $1.key }) {
            if pick < count { return cost }
            pick -= count
        }
        return fallback
    }
}
