import Foundation
import Synchronization

/// The key of an account in ``LoginThrottle``: the SHA-256 of the normalised email, so an
/// entry has a fixed size whatever a request sends.
public struct AccountKey: Hashable, Sendable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    /// The key of a syntactically valid address that names no account (only such are ever
    /// remembered).
    public init(_ address: EmailAddress, using crypto: some CryptoPrimitives) {
        self.init(digest: crypto.sha256(Array(address.key.utf8)))
    }

    /// The key of an existing account: one for all its addresses, so that signing in with a
    /// further verified address draws on the same failure budget as the primary.
    public init(userID: String, using crypto: some CryptoPrimitives) {
        // An address has no newline: no account key equals an address key.
        self.init(digest: crypto.sha256(Array("account\n\(userID)".utf8)))
    }

    private init(digest: [UInt8]) {
        func word(_ index: Int) -> UInt64 {
            digest[(index * 8)..<(index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        words = (word(0), word(1), word(2), word(3))
    }

    /// The key's 32 bytes, as the database stores it.
    public var bytes: [UInt8] {
        [words.0, words.1, words.2, words.3].flatMap { word in (0..<8).reversed().map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    }

    public static func == (lhs: AccountKey, rhs: AccountKey) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// Brute-force protection for password logins. Attempts in flight are counted in memory; the
/// failures are too, or in the database when the storage shares limits between instances
/// (``SharedLimitStore``), so that every instance counts the same failures:
/// - per account (whether or not it exists, so the limit reveals nothing): failures within
///   `window` plus attempts still being checked may not reach `maxFailures`. Counting the
///   attempts in flight means concurrent guesses cannot slip past the limit together. A
///   success resets the account.
/// - per client IP: at most `ipRate` attempts a second (one second of burst).
/// A value of 0 switches a limit off. Accounts are keyed by ``AccountKey`` and forgotten once
/// their failures are older than `window` (swept by age), so the table stays bounded whatever
/// requests send.
public final class LoginThrottle: Sendable {
    private struct Account {
        var failures: [Date] = []
        var inFlight = 0
    }

    private struct State {
        var accounts: [AccountKey: Account] = [:]
        var lastSweep = Date.distantPast
    }

    let maxFailures: Int
    let window: TimeInterval
    let addresses: AddressLimiter
    let shared: (any SharedLimitStore)?
    private let state = Mutex(State())

    public init(maxFailures: Int, window: TimeInterval, ipRate: Double, shared: (any SharedLimitStore)? = nil) {
        self.maxFailures = maxFailures
        self.window = window
        self.addresses = AddressLimiter(name: "login", rate: ipRate, burst: ipRate, shared: shared)
        self.shared = shared
    }

    public convenience init(settings: Settings, shared: (any SharedLimitStore)? = nil) {
        self.init(maxFailures: settings.loginMaxFailures, window: settings.loginFailureWindow, ipRate: settings.loginIPRate, shared: shared)
    }

    /// Takes one attempt from the IP's bucket, or throws `too_many_attempts`.
    public func admitAttempt(fromIP ip: String, now: Date) async throws {
        if let retryAfter = try await addresses.admit(ip, now: now) { throw AccountError.tooManyAttempts(retryAfter: retryAfter) }
    }

    /// Starts a password check for the account, counted as in flight until ``finish(_:succeeded:now:)``;
    /// throws `too_many_attempts` when recent failures and attempts in flight reach the limit.
    public func begin(_ key: AccountKey, now: Date) async throws {
        guard maxFailures > 0 else { return }
        if let shared {
            let failures = try await shared.loginFailures(key.bytes, since: now - window)
            let retryAfter: TimeInterval? = state.withLock { state in
                var account = state.accounts[key] ?? Account()
                if failures.count + account.inFlight >= maxFailures {
                    return failures.first.map { window - now.timeIntervalSince($0) } ?? 1
                }
                account.inFlight += 1
                account.failures = failures
                state.accounts[key] = account
                return nil
            }
            if let retryAfter { throw AccountError.tooManyAttempts(retryAfter: max(1, Int(retryAfter.rounded(.up)))) }
            return
        }
        let retryAfter: TimeInterval? = state.withLock { state in
            sweep(&state, now: now)
            var account = state.accounts[key] ?? Account()
            account.failures.removeAll { now.timeIntervalSince($0) >= window }
            if account.failures.count + account.inFlight >= maxFailures {
                state.accounts[key] = account
                // Until the oldest failure leaves the window, or a second while others are checked.
                return account.failures.first.map { window - now.timeIntervalSince($0) } ?? 1
            }
            account.inFlight += 1
            state.accounts[key] = account
            return nil
        }
        if let retryAfter { throw AccountError.tooManyAttempts(retryAfter: max(1, Int(retryAfter.rounded(.up)))) }
    }

    /// Ends an attempt ``begin(_:now:)`` admitted: a failure is counted, a success resets.
    /// Returns when the lock ends if this failure is the one that reached the limit.
    @discardableResult
    public func finish(_ key: AccountKey, succeeded: Bool, now: Date) async throws -> Date? {
        guard maxFailures > 0 else { return nil }
        if let shared {
            // What this instance saw at the start, and its attempt no longer in flight.
            let sawFailures: Bool = state.withLock { state in
                guard var account = state.accounts[key] else { return true }
                account.inFlight = max(0, account.inFlight - 1)
                let saw = !account.failures.isEmpty
                state.accounts[key] = account.inFlight == 0 ? nil : account
                return saw
            }
            if succeeded {
                if sawFailures { try await shared.clearLoginFailures(key.bytes) }
                return nil
            }
            let recent = try await shared.recordLoginFailure(key.bytes, at: now, since: now - window, keep: maxFailures, expires: now + window)
            guard recent.count == maxFailures, let oldest = recent.first else { return nil }
            return oldest + window
        }
        return state.withLock { state -> Date? in
            guard var account = state.accounts[key] else { return nil }
            account.inFlight = max(0, account.inFlight - 1)
            if succeeded {
                account.failures.removeAll()
            } else {
                account.failures.append(now)
                account.failures = Array(account.failures.suffix(maxFailures))
            }
            state.accounts[key] = account.failures.isEmpty && account.inFlight == 0 ? nil : account
            let recent = account.failures.filter { now.timeIntervalSince($0) < window }
            guard !succeeded, recent.count == maxFailures, let oldest = recent.first else { return nil }
            return oldest + window
        }
    }

    /// Ends an attempt ``begin(_:now:)`` admitted without an outcome (a check that the account
    /// is not locked out): nothing is counted.
    public func abandon(_ key: AccountKey) {
        guard maxFailures > 0 else { return }
        state.withLock { state in
            guard var account = state.accounts[key] else { return }
            account.inFlight = max(0, account.inFlight - 1)
            // Shared failures live in the database: only the attempts in flight are kept here.
            let forget = account.inFlight == 0 && (shared != nil || account.failures.isEmpty)
            state.accounts[key] = forget ? nil : account
        }
    }

    /// How many accounts are remembered (tests check the table stays bounded).
    public var trackedAccounts: Int { state.withLock { $0.accounts.count } }

    /// Forgets accounts with nothing in flight and no failure within the window, at most
    /// once every `window / 10` (and every minute at least).
    private func sweep(_ state: inout State, now: Date) {
        guard now.timeIntervalSince(state.lastSweep) >= min(60, window / 10) else { return }
        state.lastSweep = now
        state.accounts = state.accounts.filter { entry in
            entry.value.inFlight > 0 || entry.value.failures.contains { now.timeIntervalSince($0) < window }
        }
    }
}
