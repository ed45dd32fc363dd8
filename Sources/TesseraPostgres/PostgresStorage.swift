import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TesseraCore
import TesseraMigrations

/// Tessera's storage on a PostgreSQL database (contract §10) through postgres-nio: one
/// connection pool per process, every write one READ COMMITTED transaction, retried whole when
/// PostgreSQL reports a serialization failure or a deadlock.
///
/// It implements every storage protocol of `TesseraCore`, one extension per protocol, with the
/// same behaviour as `SQLiteStorage` (the conformance suite runs unchanged against both). It
/// keeps nothing in memory between requests: every read asks the database, so a change made
/// through another instance is seen at once.
public final class PostgresStorage: Sendable {
    /// How often a transaction that lost a serialization race or a deadlock is run again.
    static let transientRetries = 8

    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>
    private let polling = Mutex<Task<Void, Never>?>(nil)
    let changes: ChangePoller
    /// Where each write's transaction time is recorded.
    let metrics: ServiceMetrics
    /// Token standings and clients, kept while no instance changed what they were read from.
    let standings: ClusterMemo<StandingKey, AccessTokenStanding>
    let clients: ClusterMemo<String, Client?>
    /// The most answers each memo keeps.
    static let memoCapacity = 8_192
    /// Notified after every commit that appended an event (this process's writes; other
    /// instances' events are found by the readers' own polling).
    public let eventsCommitted: ChangeNotifier
    /// The database, as the operator gave it (password masked).
    public let url: PostgresURL

    /// Opens a pool of at most `poolSize` connections to `url`. Connections are made when first
    /// needed; ``ping()`` or ``migrate()`` tells whether the database answers.
    /// `applicationName` names the connections in `pg_stat_activity` (`tessera:<instance_id>`).
    /// With a `syncInterval`, the change counters are polled that often and the reads behind
    /// every token check and client authentication are kept between changes (``ClusterMemo``);
    /// without one (tools, tests of raw behaviour) every read goes to the database.
    public init(
        url: PostgresURL, poolSize: Int, applicationName: String = "tessera", syncInterval: TimeInterval? = nil, logger: Logger,
        metrics: ServiceMetrics = .disabled
    ) {
        self.url = url
        self.metrics = metrics
        self.logger = logger
        // The pool's own chatter stays out of the log: failures reach the caller as errors, and
        // a lease asked for before `run()` has begun (the first request) is not worth a warning.
        var background = logger
        background.logLevel = .error
        var configuration = url.clientConfiguration(poolSize: poolSize)
        configuration.options.additionalStartupParameters = [("application_name", String(applicationName.prefix(63)))]
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
        eventsCommitted = ChangeNotifier()
        let changes = ChangePoller(interval: .seconds(syncInterval ?? 1))
        self.changes = changes
        standings = ClusterMemo(poller: changes, counter: .standings, capacity: Self.memoCapacity)
        clients = ClusterMemo(poller: changes, counter: .clients, capacity: Self.memoCapacity)
        if syncInterval != nil {
            let task = Task { [weak self] in
                while !Task.isCancelled {
                    await self?.pollChanges()
                    try? await Task.sleep(for: changes.interval)
                }
            }
            polling.withLock { $0 = task }
        }
    }

    /// Reads the change counters once (the poller's turn).
    func pollChanges() async {
        guard let rows = try? await read(waiting: .seconds(1), { sql in
            try await sql.rows("SELECT name, generation FROM change_counters").map { (try $0.text(0), try $0.int64(1)) }
        }) else { return }
        var generations: [ChangePoller.Counter: Int64] = [:]
        for (name, generation) in rows {
            if let counter = ChangePoller.Counter(rawValue: name) { generations[counter] = generation }
        }
        changes.record(generations)
    }

    /// Closes the pool: running queries finish, new ones fail.
    public func shutdown() async {
        polling.withLock { $0?.cancel() }
        running.cancel()
        await running.value
    }

    /// Applies the PostgreSQL migrations not applied yet (under the migrator's advisory lock);
    /// returns their names.
    @discardableResult
    public func migrate(_ migrations: [Migration] = Migrations.postgres) async throws -> [String] {
        try await PostgresMigrator(client: client, logger: logger).migrate(migrations)
    }

    /// The names of the migrations the database has applied.
    public func appliedMigrations() async throws -> [String] {
        try await PostgresMigrator(client: client, logger: logger).applied()
    }

    /// Whether the database answers a query within a second (for readiness).
    public func ping() async -> Bool {
        do {
            return try await read(waiting: .seconds(1)) { sql in try await sql.rows("SELECT 1").count == 1 }
        } catch {
            return false
        }
    }

    // MARK: Running statements

    /// How long a request waits for a pooled connection before it is answered 503: the pool
    /// waits for ever while the database cannot be reached.
    static let connectionWait: Duration = .seconds(5)

    /// How long a leased connection's work may take before its caller is answered 503: far
    /// above any of Tessera's statements, and below a client's usual 30-second timeout.
    static let answerWait: Duration = .seconds(15)

    /// Runs `body` on one pooled connection outside a transaction (for reads of one statement,
    /// or several that need no common snapshot).
    /// A read that meets a connection the server has closed (a restart, `pg_terminate_backend`)
    /// runs once more on another: reads change nothing.
    func read<T: Sendable>(waiting wait: Duration = connectionWait, _ body: @escaping @Sendable (SQL) async throws -> T) async throws -> T {
        try await Self.mapErrors {
            do {
                return try await withConnection(waiting: wait) { connection in try await body(SQL(connection: connection, logger: self.logger)) }
            } catch let error as PSQLError where Self.isLostConnection(error) {
                return try await withConnection(waiting: wait) { connection in try await body(SQL(connection: connection, logger: self.logger)) }
            }
        }
    }

    /// Runs `body` — one writing statement, committed by itself — on a pooled connection: one
    /// round trip where BEGIN, the statements and COMMIT would be four. Run again on a
    /// serialization failure or deadlock (which undid it), never after a lost connection (it
    /// may have committed).
    func autocommit<T: Sendable>(_ body: @escaping @Sendable (SQL) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await Self.mapErrors {
                    try await withConnection { [logger, metrics] connection in
                        let start = ContinuousClock.now
                        defer { metrics.databaseCommitted(since: start) }
                        return try await body(SQL(connection: connection, logger: logger))
                    }
                }
            } catch let error as PSQLError where Self.isTransient(error) && attempt < Self.transientRetries {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(2 << min(attempt, 6)))))
            }
        }
    }

    /// Whether `error` says the connection is gone (closed by either side, or the server
    /// terminating it), so that nothing more happens on it.
    static func isLostConnection(_ error: PSQLError) -> Bool {
        if lostConnection.contains(error.code) { return true }
        guard let state = sqlState(error) else { return false }
        return state.hasPrefix("57P") || state.hasPrefix("08")
    }

    /// A transaction whose BEGIN failed on a lost connection: nothing was sent, so it may run again.
    struct StaleConnection: Error {
        let underlying: PSQLError
    }

    /// Leases a connection for `body`, or throws ``StorageError/unavailable`` when none is
    /// given within ``connectionWait`` (the waiting lease is cancelled), or when the leased
    /// `body` has not finished ``answerWait`` later.
    ///
    /// The caller never waits beyond that: the lease and its body run in a task of their own,
    /// and a timeout, or the caller's cancellation (a graceful shutdown), answers at once even
    /// when the pool does not give up the lease (seen after the instance's connections were
    /// terminated) or a query never hears back (seen after a crash and restart of the
    /// database); the work is cancelled and left to end on its own. A write cut off so may
    /// still commit, as one whose answer is lost with the connection may.
    func withConnection<T: Sendable>(
        waiting wait: Duration = connectionWait, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = EventFlag()
        let answer = OneAnswer<T>()
        let client = client
        let work = Task {
            do {
                let value = try await client.withConnection { connection in
                    leased.value.store(true, ordering: .relaxed)
                    return try await body(connection)
                }
                answer.give(.success(value))
            } catch {
                answer.give(.failure(error))
            }
        }
        let timer = Task {
            try await Task.sleep(for: wait)
            if !leased.value.load(ordering: .relaxed) {
                answer.give(.failure(StorageError.unavailable(reason: "no database connection within \(wait)")))
                work.cancel()
                return
            }
            try await Task.sleep(for: Self.answerWait)
            answer.give(.failure(StorageError.unavailable(reason: "the database did not answer within \(Self.answerWait)")))
            work.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await answer.value()
        } onCancel: {
            work.cancel()
            answer.give(.failure(CancellationError()))
        }
    }

    /// Runs `body` in one transaction and returns once it has committed (durably:
    /// `synchronous_commit` is PostgreSQL's default, and a 2xx means on disk). A serialization
    /// failure or deadlock rolls it back and runs it again, up to ``transientRetries`` times;
    /// any other error rolls it back and is thrown.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (SQL) async throws -> T) async throws -> T {
        var attempt = 0
        var retriedStale = false
        while true {
            let appended = EventFlag()
            do {
                let value = try await Self.mapErrors {
                    try await withConnection { [logger, metrics] connection in
                        let sql = SQL(connection: connection, logger: logger, eventsAppended: appended)
                        let start = ContinuousClock.now
                        do {
                            _ = try await sql.run("BEGIN")
                        } catch let error as PSQLError where Self.isLostConnection(error) {
                            throw StaleConnection(underlying: error)
                        }
                        do {
                            let value = try await body(sql)
                            _ = try await sql.run("COMMIT")
                            metrics.databaseCommitted(since: start)
                            return value
                        } catch {
                            _ = try? await sql.run("ROLLBACK")
                            throw error
                        }
                    }
                }
                if appended.value.load(ordering: .relaxed) { eventsCommitted.notify() }
                changes.bumpLocal()
                return value
            } catch let error as PSQLError where Self.isTransient(error) && attempt < Self.transientRetries {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(2 << min(attempt, 6)))))
            } catch let stale as StaleConnection {
                guard !retriedStale else { throw Self.mapped(stale.underlying) }
                retriedStale = true
            }
        }
    }

    /// Whether PostgreSQL asks for the transaction to be run again (SQLSTATE 40001, 40P01).
    static func isTransient(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The client-side errors that mean the database is out of reach.
    static let lostConnection: [PSQLError.Code] = [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]

    /// Maps the failures every backend reports alike: a unique violation is
    /// ``StorageError/alreadyExists``; a connection that cannot be made or was lost is
    /// ``StorageError/unavailable``. Transient server errors pass through to be retried.
    static func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw mapped(error)
        }
    }

    /// The storage error a server error stands for, else the error itself.
    static func mapped(_ error: PSQLError) -> any Error {
        if sqlState(error) == "23505" { return StorageError.alreadyExists }
        // A lost connection, or the server shutting down or refusing connections (57P, 08).
        if isLostConnection(error) { return StorageError.unavailable(reason: sqlState(error).map { "PostgreSQL \($0)" } ?? "\(error.code)") }
        return error
    }
}

extension PostgresStorage: Storage {}

/// Whether a transaction appended an event.
final class EventFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// One connection's statements, inside a transaction or not.
struct SQL: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    var eventsAppended: EventFlag? = nil

    /// Runs `query`; its rows and how many rows it touched.
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> PostgresQueryResult {
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        return try await future.get()
    }

    /// Runs `query` and returns how many rows it touched.
    @discardableResult
    func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query).metadata.rows ?? 0
    }

    /// The rows of `query`, each readable by position.
    func rows(_ query: PostgresQuery) async throws -> [Cells] {
        try await run(query).rows.map { Cells($0.makeRandomAccess()) }
    }

    /// The first row of `query`, if any.
    func row(_ query: PostgresQuery) async throws -> Cells? {
        try await rows(query).first
    }
}

/// The columns of one row, read by position, so that a mapping (of a user, a family) is
/// written once against selected columns.
struct Cells: @unchecked Sendable {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRandomAccessRow) { self.row = row }

    func isNull(_ index: Int) -> Bool { row[index].bytes == nil }
    func text(_ index: Int) throws -> String { try row[index].decode(String.self) }
    func optionalText(_ index: Int) throws -> String? { try row[index].decode(String?.self) }
    func double(_ index: Int) throws -> Double { try row[index].decode(Double.self) }
    func optionalDouble(_ index: Int) throws -> Double? { try row[index].decode(Double?.self) }
    func date(_ index: Int) throws -> Date { Date(timeIntervalSince1970: try double(index)) }
    func optionalDate(_ index: Int) throws -> Date? { try optionalDouble(index).map(Date.init(timeIntervalSince1970:)) }
    func bool(_ index: Int) throws -> Bool { try row[index].decode(Bool.self) }
    func int64(_ index: Int) throws -> Int64 { try row[index].decode(Int64.self) }
    func int(_ index: Int) throws -> Int { Int(try int64(index)) }
    func optionalInt(_ index: Int) throws -> Int? { try row[index].decode(Int64?.self).map(Int.init) }
    func bytes(_ index: Int) throws -> [UInt8] { [UInt8](try row[index].decode(Data.self)) }
    func optionalBytes(_ index: Int) throws -> [UInt8]? { try row[index].decode(Data?.self).map { [UInt8]($0) } }
}

extension Date {
    /// The stored form of a time: seconds since the epoch, as in the SQLite schema.
    var stored: Double { timeIntervalSince1970 }
}

extension TokenHash {
    /// The stored form of a hash (BYTEA).
    var stored: Data { Data(bytes) }
}

/// A statement assembled from optional conditions: each value is bound as the next `$n`.
struct DynamicQuery {
    private var text: String
    private var binds = PostgresBindings()

    init(_ text: String) { self.text = text }

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Appends `fragment` (placeholders from ``bind(_:)``) after a space.
    mutating func append(_ fragment: String) { text += " " + fragment }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

/// The first of several answers to one question (a lease's result, its timeout, its caller's
/// cancellation), handed to the one waiter; the later ones are dropped.
final class OneAnswer<T: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<T, any Error>?)
        case answered(Result<T, any Error>)
        case taken
    }

    private let state = Mutex<State>(.waiting(nil))

    func give(_ result: Result<T, any Error>) {
        let waiter: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            if let continuation {
                state = .taken
                return continuation
            }
            state = .answered(result)
            return nil
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<T, any Error>? = state.withLock { state in
                if case .answered(let result) = state {
                    state = .taken
                    return result
                }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
