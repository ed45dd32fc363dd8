/// Slow password hashing (bcrypt), run off the HTTP event loops on a bounded pool.
public protocol PasswordHasher: Sendable {
    /// Hashes `input` at `cost`. Throws ``AccountError/busy(retryAfter:)`` when the pool is full.
    func hash(_ input: String, cost: Int) async throws(AccountError) -> String
    /// Whether `input` matches `hash`. Throws ``AccountError/busy(retryAfter:)`` when the pool is full.
    func verify(_ input: String, against hash: String) async throws(AccountError) -> Bool
    /// The cost a hash was made with, if it is one of ours.
    func cost(of hash: String) -> Int?
    /// A well-formed hash at `cost` that no password matches: verifying against it takes as long
    /// as against a real one, so an unknown email costs the same time as a wrong password.
    func unmatchableHash(cost: Int) -> String
    /// Whether the pool is full right now: a request that would hash can be turned away
    /// before any other work is spent on it.
    var isSaturated: Bool { get }
}
