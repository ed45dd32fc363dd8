/// Which queue a password hash waits in. Sign-ins have capacity of their own that sign-ups
/// (and rehashes) cannot take, so a sign-up flood cannot turn logins away.
public enum HashingPriority: Sendable {
    case signIn
    /// Sign-ups, rehashes at a new cost, the admin CLI.
    case other
}

/// Slow password hashing (bcrypt), run off the HTTP event loops on a bounded pool.
public protocol PasswordHasher: Sendable {
    /// Hashes `input` at `cost`. Throws ``AccountError/busy(retryAfter:)`` when the pool is full.
    func hash(_ input: String, cost: Int, priority: HashingPriority) async throws(AccountError) -> String
    /// Whether `input` matches `hash` (a sign-in). Throws ``AccountError/busy(retryAfter:)``
    /// when the pool is full.
    func verify(_ input: String, against hash: String) async throws(AccountError) -> Bool
    /// The cost a hash was made with, if it is one of ours.
    func cost(of hash: String) -> Int?
    /// A well-formed hash at `cost` that no password matches: verifying against it takes as long
    /// as against a real one, so an unknown email costs the same time as a wrong password.
    func unmatchableHash(cost: Int) -> String
    /// Whether a sign-in would be turned away right now (no capacity, no room to wait): such a
    /// request can be refused before any other work is spent on it.
    var isSaturated: Bool { get }
}
