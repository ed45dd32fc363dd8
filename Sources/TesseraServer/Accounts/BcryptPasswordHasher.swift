import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Synchronization
import TesseraCore

/// bcrypt (HummingbirdBcrypt) off the HTTP event loops, on NIO's thread pool (one thread per
/// core), behind a bound: when `capacity` hashes are already running or queued, the next
/// caller gets ``AccountError/busy(retryAfter:)`` (503 + `Retry-After`) instead of a queue
/// that grows without limit. A login storm therefore cannot starve refresh, JWKS or
/// introspection, which never touch the pool.
public final class BcryptPasswordHasher: PasswordHasher {
    private let pool: NIOThreadPool
    private let capacity: Int
    private let admitted = Atomic<Int>(0)

    /// - Parameter capacity: hashes running or queued at once; by default 8 per core.
    public init(pool: NIOThreadPool = .singleton, capacity: Int = System.coreCount * 8) {
        self.pool = pool
        self.capacity = capacity
    }

    public func hash(_ input: String, cost: Int) async throws(AccountError) -> String {
        try await run { Bcrypt.hash(input, cost: UInt8(cost)) }
    }

    public func verify(_ input: String, against hash: String) async throws(AccountError) -> Bool {
        try await run { Bcrypt.verify(input, hash: hash) }
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

    public var isSaturated: Bool { admitted.load(ordering: .relaxed) >= capacity }

    private func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async throws(AccountError) -> Value {
        guard admitted.add(1, ordering: .relaxed).newValue <= capacity else {
            admitted.subtract(1, ordering: .relaxed)
            throw .busy(retryAfter: 1)
        }
        defer { admitted.subtract(1, ordering: .relaxed) }
        do {
            return try await pool.runIfActive(work)
        } catch {
            throw .busy(retryAfter: 1)
        }
    }
}
