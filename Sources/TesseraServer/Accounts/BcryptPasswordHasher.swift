import HummingbirdBcrypt
import NIOCore
import NIOPosix
import TesseraCore

/// bcrypt (HummingbirdBcrypt) off the HTTP event loops, on NIO's thread pool (one thread per
/// core), behind ``HashingAdmission``: a bounded number of hashes run or queue at once, half
/// of them reserved for sign-ins; callers beyond wait briefly, and past a bounded waiting room
/// or wait get ``AccountError/busy(retryAfter:)`` (503 + `Retry-After`) instead of a queue
/// that grows without limit. A login or sign-up storm therefore cannot starve refresh, JWKS
/// or introspection, which never touch the pool, and a sign-up storm cannot starve logins.
public final class BcryptPasswordHasher: PasswordHasher {
    private let pool: NIOThreadPool
    private let admission: HashingAdmission
    /// Observes how long each hash ran on its thread (not its wait for a slot).
    private let metrics: ServiceMetrics?

    /// - Parameters:
    ///   - capacity: hashes running or queued at once; by default 8 per core. Sign-ups and
    ///     rehashes may hold at most half.
    ///   - waitingRoom: callers that may wait for a slot; by default 4 × `capacity`.
    ///   - maxWait: how long one waits before it is turned away.
    ///   - metrics: where each hash's run time is recorded.
    public init(
        pool: NIOThreadPool = .singleton, capacity: Int = System.coreCount * 8, waitingRoom: Int? = nil, maxWait: Duration = .seconds(2),
        metrics: ServiceMetrics? = nil
    ) {
        self.pool = pool
        self.metrics = metrics
        self.admission = HashingAdmission(
            slots: capacity, otherSlots: max(1, capacity / 2), waitingRoom: waitingRoom ?? capacity * 4, maxWait: maxWait)
    }

    public func hash(_ input: String, cost: Int, priority: HashingPriority) async throws(AccountError) -> String {
        try await run(priority) { Bcrypt.hash(input, cost: UInt8(cost)) }
    }

    public func verify(_ input: String, against hash: String) async throws(AccountError) -> Bool {
        try await run(.signIn) { Bcrypt.verify(input, hash: hash) }
    }

    public func cost(of hash: String) -> Int? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 3, ["2a", "2b", "2y"].contains(parts[0]), parts[1].count == 2 else { return nil }
        return Int(parts[1])
    }

    /// `$2b$<cost>$` and 53 random characters of bcrypt's alphabet: a salt and a digest that
    /// no password produces, which bcrypt still processes at full cost.
    public func unmatchableHash(cost: Int) -> String {
        let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let tail = String((0..<53).map { _ in alphabet.randomElement(using: &generator)! })
        return "$2b$" + (cost < 10 ? "0\(cost)" : "\(cost)") + "$" + tail
    }

    public var isSaturated: Bool { admission.isSaturated }

    /// Hashes running or queued, and callers waiting for a slot.
    public var load: (running: Int, waiting: Int) { admission.counts }

    private func run<Value: Sendable>(_ priority: HashingPriority, _ work: @escaping @Sendable () -> Value) async throws(AccountError) -> Value {
        guard await admission.enter(priority) else { throw .busy(retryAfter: 1) }
        defer { admission.leave(priority) }
        do {
            guard let metrics else { return try await pool.runIfActive(work) }
            return try await pool.runIfActive {
                let start = ContinuousClock.now
                defer { metrics.passwordHashed(since: start) }
                return work()
            }
        } catch {
            throw .busy(retryAfter: 1)
        }
    }
}
