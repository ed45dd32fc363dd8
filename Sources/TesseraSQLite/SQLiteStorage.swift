import Foundation
import GRDB
import Logging
import Synchronization
import TesseraCore
import TesseraMigrations

/// Tessera's storage on one SQLite file through GRDB: WAL, `synchronous=FULL`, foreign keys on,
/// a busy timeout, one `DatabasePool` for the process.
///
/// It implements every storage protocol of `TesseraCore`, in one extension per protocol.
public final class SQLiteStorage: Sendable {
    /// Why the database could not be used. Each case carries the path and SQLite's message.
    public enum OpenError: Error, CustomStringConvertible, Equatable {
        case cannotOpen(path: String, reason: String)
        case notWritable(path: String, reason: String)
        case migrationFailed(file: String, message: String)
        case newerSchema(path: String, unknown: [String])

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): "cannot open database \(path): \(reason)"
            case .notWritable(let path, let reason): "database \(path) is not writable: \(reason)"
            case .migrationFailed(let file, let message): "migration \(file) failed: \(message)"
            case .newerSchema(let path, let unknown):
                "database \(path) has migrations this tessera does not know (\(unknown.joined(separator: ", "))): it was written by a newer version"
            }
        }
    }

    /// How long a write waits for another process's lock (the admin CLI, a second server)
    /// before failing with SQLITE_BUSY.
    public static let busyTimeout: TimeInterval = 5

    /// The writer's page cache, in KiB (SQLite's default is 2,000). A rotation touches a few
    /// random pages of the refresh-token tables; with the default most of them were read
    /// again from the file on every write (4.2 `pread` per refresh, 2.5 with this). The WAL
    /// checkpoint stays at SQLite's 1,000 pages: at 8,192 the writes waiting behind one
    /// checkpoint took refresh p99 from 16 to 44 ms, for no gain in throughput.
    static let writerCacheKiB = 16_384

    /// The most answers each ``ReadMemo`` keeps (a few MiB at most).
    static let memoCapacity = 8_192

    let pool: DatabasePool
    private let groupCommit: GroupCommit
    /// Set by every write that appended an event; the commit that follows notifies
    /// ``eventsCommitted`` (a write rolled back may cause one needless wake-up, never a lost one).
    let eventsAppended: EventFlag
    public let eventsCommitted: ChangeNotifier
    /// Token standings by (jti, user, client), kept while no user, client or revocation changes.
    let standings: ReadMemo<StandingKey, AccessTokenStanding>
    /// Clients by id (nil for an unknown id), kept while no client changes.
    let clients: ReadMemo<String, Client?>
    public let path: String

    /// Opens (creating if needed, with its directory) the database at `path`, checks that it
    /// can be written, and makes commits durable (`synchronous=FULL`). Does not migrate.
    /// - Parameter metrics: where commits are timed and group sizes recorded.
    public init(path: String, metrics: ServiceMetrics = .disabled) throws(OpenError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "tessera"
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            // Only the server's own user reads password hashes and emails: a directory it
            // creates is 0700 and a database file 0600. SQLite gives the -wal and -shm files
            // the database file's mode.
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Self.createPrivately(path)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot create it or its directory: \(error.localizedDescription)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .cannotOpen(path: path, reason: Self.message(error))
        }
        let eventsAppended = EventFlag()
        let eventsCommitted = ChangeNotifier()
        self.eventsAppended = eventsAppended
        self.eventsCommitted = eventsCommitted
        groupCommit = GroupCommit(pool: pool, metrics: metrics) {
            if eventsAppended.value.exchange(false, ordering: .relaxed) { eventsCommitted.notify() }
        }
        do {
            let watch = try ChangeWatch(path: path, busyTimeoutMilliseconds: Int32(Self.busyTimeout * 1000))
            standings = ReadMemo(watch: watch, counter: .standings, capacity: Self.memoCapacity)
            clients = ReadMemo(watch: watch, counter: .clients, capacity: Self.memoCapacity)
        } catch {
            throw .cannotOpen(path: path, reason: error.description)
        }
        do {
            // GRDB sets synchronous=NORMAL on the pool's writer after prepareDatabase, so FULL
            // must be set here, on the one writer connection, after opening. A 2xx answer means
            // the write is on disk.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA cache_size = \(-Self.writerCacheKiB)")
            }
        } catch {
            throw .cannotOpen(path: path, reason: Self.message(error))
        }
        do {
            // SQLite opens a read-only file read-only without complaint: prove a write works now
            // rather than fail on the first sign-up.
            try pool.write { db in
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS tessera_write_check (x); DROP TABLE tessera_write_check")
                try db.execute(sql: "PRAGMA user_version = 0")
            }
        } catch {
            throw .notWritable(path: path, reason: Self.message(error))
        }
    }

    /// Creates an empty file at `path` with mode 0600 unless one is there (the umask cannot
    /// widen it: the mode is set after creation).
    static func createPrivately(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return }
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// How many client lookups are remembered (tests check it stays bounded).
    var clientMemoCount: Int { clients.count }

    /// The number of rows in `table` (tests check what a sweep leaves).
    func rowCount(_ table: String) throws -> Int {
        try readOnCallingThread { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    /// The value of a PRAGMA on the writer connection (e.g. `synchronous`, `journal_mode`).
    public func writerPragma(_ name: String) throws -> String? {
        try pool.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    /// Whether the database answers a query (for readiness).
    public func ping() async -> Bool {
        (try? readOnCallingThread { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Runs `body` in a read transaction on the calling thread. Every read goes through here.
    ///
    /// GRDB's async `read` waits for a reader on one dispatch queue, runs on the reader's own
    /// queue and then resumes the task: three thread switches around a read that takes
    /// microseconds from the page cache, on every token check. Reading in place is a lock and
    /// the query. Because no read uses the async API, a reader connection is only ever held
    /// by a thread that is running its read, so waiting for one is bounded by other reads,
    /// never by tasks waiting to be resumed. Writes stay asynchronous: a commit waits for
    /// fsync, which must not hold a thread of the concurrency pool.
    func readOnCallingThread<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Runs `body` as one write and returns once it is committed and on disk. Every write
    /// goes through here: concurrent writes share a transaction and its fsync
    /// (``GroupCommit``), each in its own savepoint.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await groupCommit.write(body)
    }

    /// How many writes wait for the group after the one committing (tests use it to line
    /// writes up).
    var writesWaiting: Int { groupCommit.waitingCount }

    /// ``write(_:)`` that hands the body's result to `prepare` while the transaction commits
    /// and returns `prepare`'s answer once it is on disk (``GroupCommit/write(_:whileCommitting:)``;
    /// inlined, like it, so that the write is compiled for the caller's `T`).
    @inline(__always)
    func write<T: Sendable, Answer>(
        _ body: @escaping @Sendable (Database) throws -> T, whileCommitting prepare: (T) async throws -> Answer
    ) async throws -> Answer {
        try await groupCommit.write(body, whileCommitting: prepare)
    }

    /// ``readOnCallingThread(_:)`` without BEGIN and COMMIT around the body, for a body of one
    /// statement: a single SELECT reads one consistent snapshot by itself.
    func readOneStatementOnCallingThread<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
    }

    static func message(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? error.resultCode.description
        }
        return "\(error)"
    }
}
extension SQLiteStorage: Storage {}

/// Whether a write appended an event since the last commit.
final class EventFlag: Sendable {
    let value = Atomic<Bool>(false)
}
