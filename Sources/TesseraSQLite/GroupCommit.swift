import GRDB
import Synchronization
import TesseraCore

/// Group commit: the writes of concurrent requests share one transaction and one fsync.
///
/// With `synchronous=FULL` every commit waits for the disk (about 0.3 ms here), and SQLite has
/// one writer, so one transaction per request caps every writing endpoint at the fsync rate
/// however many cores sign tokens. Here a write waits while the transaction before it
/// commits; then every write that arrived meanwhile runs, each inside its own savepoint, in
/// one transaction. A write whose body throws is rolled back to its savepoint alone and its
/// caller gets the error; the others commit. Each caller resumes only after the COMMIT that
/// holds its write returned, so an acknowledged write is on disk exactly as before. There is
/// no timer: an idle server commits a lone write at once.
final class GroupCommit: Sendable {
    /// At most this many writes share a transaction.
    static let maximumBatch = 128

    /// One caller's write: `perform` runs its body in the batch's transaction and hands over
    /// the outcome; `complete` tells the caller how the transaction ended.
    private struct Write: Sendable {
        /// Runs the body inside a savepoint, handing over its outcome (a group of several).
        let perform: @Sendable (Database) -> Void
        /// Runs the body as the whole transaction, handing over its outcome and rethrowing its
        /// error so that the transaction rolls back (a group of one: no savepoint needed).
        let performAlone: @Sendable (Database) throws -> Void
        let complete: @Sendable ((any Error)?) -> Void

        /// A write of `body` whose outcome goes to `ran` as soon as the body returned or threw,
        /// before the transaction ends.
        init<T: Sendable>(
            _ body: @escaping @Sendable (Database) throws -> T, ran: @escaping @Sendable (Result<T, any Error>) -> Void,
            complete: @escaping @Sendable ((any Error)?) -> Void
        ) {
            perform = { db in ran(Result { try GroupCommit.inSavepoint(db) { try body(db) } }) }
            performAlone = { db in
                let result = Result { try body(db) }
                ran(result)
                _ = try result.get()
            }
            self.complete = complete
        }
    }

    private struct Queue {
        var waiting: [Write] = []
        var committing = false
    }

    private let pool: DatabasePool
    private let queue = Mutex(Queue())
    /// Called after every successful COMMIT, before the group's callers resume.
    private let committed: @Sendable () -> Void
    /// Where each group's transaction time and size are recorded.
    private let metrics: ServiceMetrics

    init(pool: DatabasePool, metrics: ServiceMetrics = .disabled, committed: @escaping @Sendable () -> Void = {}) {
        self.pool = pool
        self.metrics = metrics
        self.committed = committed
    }

    /// Runs `body` in a savepoint of the next group transaction (or as the transaction, when
    /// it is alone) and returns its result after that transaction committed. Throws the body's
    /// error (its changes undone) or the commit's error (nothing of the group written), once
    /// the transaction ended.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await write(body, whileCommitting: { $0 })
    }

    /// Like ``write(_:)``, but hands the body's result to `prepare` as soon as the body ran,
    /// while its transaction is still committing, so that the caller's work (signing a token)
    /// overlaps the fsync instead of following it. Returns what `prepare` returned only once
    /// the commit succeeded: nothing `prepare` built can leave before the write is on disk. A
    /// failed commit throws its error, whatever `prepare` did; otherwise `prepare`'s error is
    /// rethrown (after the commit, so that what the body wrote is durable first). A body that
    /// throws is not prepared: its error is thrown once the transaction ended.
    ///
    /// Inlined into its callers, so that ``runBody(_:)`` is compiled for the caller's `T`: called
    /// generically (a rotation's `Answer` comes through a protocol from another module), the
    /// stage and its continuations had their generic metadata looked up at run time on every
    /// write, about 12 k instructions of a refresh.
    @inline(__always)
    func write<T: Sendable, Answer>(
        _ body: @escaping @Sendable (Database) throws -> T, whileCommitting prepare: (T) async throws -> Answer
    ) async throws -> Answer {
        let (value, stage) = try await runBody(body)
        let answer: Result<Answer, any Error>
        do {
            answer = .success(try await prepare(value))
        } catch {
            answer = .failure(error)
        }
        try await stage.committed()
        return try answer.get()
    }

    /// Queues `body` and returns its result as soon as it ran, with the stage that tells when
    /// its transaction ended. Throws the body's error once the transaction ended.
    private func runBody<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> (T, Stage<T>) {
        let stage = Stage<T>()
        let value: T = try await withCheckedThrowingContinuation { continuation in
            stage.awaitValue(continuation)
            enqueue(Write(body, ran: stage.ran, complete: stage.settle))
        }
        return (value, stage)
    }

    /// How many writes wait for the next group (tests use it to line writes up).
    var waitingCount: Int { queue.withLock { $0.waiting.count } }

    /// Queues `write` for the next group, starting the committing loop if it is idle.
    private func enqueue(_ write: Write) {
        let startsCommitting = queue.withLock { queue in
            queue.waiting.append(write)
            defer { queue.committing = true }
            return !queue.committing
        }
        if startsCommitting { commitNextGroup() }
    }

    /// Commits everything waiting in one transaction, then the next group, until none waits.
    private func commitNextGroup() {
        let group = queue.withLock { queue -> [Write] in
            let group = Array(queue.waiting.prefix(Self.maximumBatch))
            queue.waiting.removeFirst(group.count)
            if group.isEmpty { queue.committing = false }
            return group
        }
        guard !group.isEmpty else { return }
        pool.asyncWriteWithoutTransaction { db in
            let commitError: (any Error)?
            let start = ContinuousClock.now
            do {
                try Self.execute("BEGIN IMMEDIATE", in: db)
                if group.count == 1 {
                    try group[0].performAlone(db)
                } else {
                    for write in group {
                        write.perform(db)
                        // SQLite rolls the whole transaction back on some errors (disk full, I/O):
                        // the writes after it must not run outside it, committed one by one.
                        guard db.isInsideTransaction else { throw TransactionLost() }
                    }
                }
                try Self.execute("COMMIT", in: db)
                commitError = nil
                self.metrics.databaseCommitted(since: start, writes: group.count)
                self.committed()
            } catch {
                if db.isInsideTransaction { try? Self.execute("ROLLBACK", in: db) }
                commitError = error
            }
            for write in group { write.complete(commitError) }
            self.commitNextGroup()
        }
    }

    /// Runs `body` inside a savepoint: its changes are kept if it returns, undone if it throws.
    private static func inSavepoint<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try execute("SAVEPOINT tessera_write", in: db)
        do {
            let value = try body()
            try execute("RELEASE SAVEPOINT tessera_write", in: db)
            return value
        } catch {
            try execute("ROLLBACK TO SAVEPOINT tessera_write", in: db)
            try execute("RELEASE SAVEPOINT tessera_write", in: db)
            throw error
        }
    }

    /// Transaction control through statements prepared once per connection: GRDB's own
    /// `inTransaction` and `inSavepoint` parse their SQL on every use (2 % of a refresh).
    private static func execute(_ sql: String, in db: Database) throws {
        try db.cachedStatement(sql: sql).execute()
    }
}

/// A group's transaction was rolled back by SQLite itself while one of its writes ran: none of
/// the group is written, and every caller gets this error.
struct TransactionLost: Error, CustomStringConvertible {
    var description: String { "SQLite rolled the group's transaction back; nothing of it was written" }
}

/// The two moments of a write made with ``GroupCommit/write(_:whileCommitting:)``: its body
/// ran (the caller resumes with the result), then its transaction ended (the caller, having
/// prepared its answer, waits for that).
private final class Stage<T: Sendable>: Sendable {
    private struct State {
        var valueWaiter: CheckedContinuation<T, any Error>?
        var bodyError: (any Error)?
        var commitWaiter: CheckedContinuation<Void, any Error>?
        var commit: Result<Void, any Error>?
    }

    private let state = Mutex(State())

    func awaitValue(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.valueWaiter = continuation }
    }

    /// The body ran (its changes not yet committed): the caller goes on with its value. A
    /// body's error is held until the transaction ended, so that its caller hears of it no
    /// sooner than the others in its group hear of their commit.
    func ran(_ result: Result<T, any Error>) {
        switch result {
        case .success(let value):
            state.withLock { state in
                defer { state.valueWaiter = nil }
                return state.valueWaiter
            }?.resume(returning: value)
        case .failure(let error):
            state.withLock { $0.bodyError = error }
        }
    }

    /// The transaction ended: committed (`nil`) or not. A caller still waiting for its value
    /// gets the commit's error, else its body's (a committed group ran every body, so the
    /// last fallback is never taken).
    func settle(_ commitError: (any Error)?) {
        let commit: Result<Void, any Error> = commitError.map { .failure($0) } ?? .success(())
        let (valueWaiter, bodyError, commitWaiter) = state.withLock { state in
            defer { (state.valueWaiter, state.commitWaiter, state.commit) = (nil, nil, commit) }
            return (state.valueWaiter, state.bodyError, state.commitWaiter)
        }
        valueWaiter?.resume(throwing: commitError ?? bodyError ?? CancellationError())
        commitWaiter?.resume(with: commit)
    }

    /// Returns once the transaction committed; throws its error if it did not.
    func committed() async throws {
        if let commit = state.withLock({ $0.commit }) { return try commit.get() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let commit = state.withLock { state in
                if state.commit == nil { state.commitWaiter = continuation }
                return state.commit
            }
            if let commit { continuation.resume(with: commit) }
        }
    }
}
