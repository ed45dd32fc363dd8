import GRDBSQLite
import Synchronization

/// Tells whether anything was committed to the database file since it last looked, by any
/// connection of any process: `PRAGMA data_version` on one connection of its own, which
/// never writes.
///
/// SQLite changes the value a connection reports whenever another connection (this
/// process's writer, the admin CLI, a second server) commits. Reading it starts and ends a
/// read transaction, so a commit that finished before ``current()`` began is always seen.
/// That makes it an exact guard for memoised reads (``ReadMemo``): a few microseconds,
/// against a pooled read that costs tens.
final class DataVersionWatch: Sendable {
    /// Why the watch could not be opened or read: SQLite's result code and message.
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let message: String
        var description: String { "data_version: \(message) (SQLite code \(code))" }
    }

    private struct Connection: ~Copyable {
        let database: OpaquePointer
        let statement: OpaquePointer

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(database)
        }
    }

    private let connection: Mutex<Connection>

    /// Opens its own connection to the database at `path`, which must already exist.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(Failure) {
        var database: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        let opened = sqlite3_open_v2(path, &database, flags, nil)
        guard opened == SQLITE_OK, let database else {
            let failure = Failure(code: opened, message: database.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open")
            sqlite3_close_v2(database)
            throw failure
        }
        sqlite3_busy_timeout(database, busyTimeoutMilliseconds)
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(database, "PRAGMA data_version", -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else {
            let failure = Failure(code: prepared, message: String(cString: sqlite3_errmsg(database)))
            sqlite3_close_v2(database)
            throw failure
        }
        connection = Mutex(Connection(database: database, statement: statement))
    }

    /// The database's version as this connection sees it now. Equal values mean nothing was
    /// committed in between.
    func current() throws(Failure) -> Int64 {
        try connection.withLock { (connection: inout Connection) throws(Failure) -> Int64 in
            defer { sqlite3_reset(connection.statement) }
            let stepped = sqlite3_step(connection.statement)
            guard stepped == SQLITE_ROW else {
                throw Failure(code: stepped, message: String(cString: sqlite3_errmsg(connection.database)))
            }
            return sqlite3_column_int64(connection.statement, 0)
        }
    }
}
