import GRDBSQLite
import Synchronization

/// Tells whether the data behind a memo (``ReadMemo``) changed since it last looked, whichever
/// connection of whichever process changed it, on one connection of its own that never writes.
///
/// Two levels, both exact:
/// - `PRAGMA data_version` changes whenever another connection (this process's writer, the
///   admin CLI, a second server) commits anything. Reading it starts and ends a read
///   transaction, so a commit that finished before a lookup began is always seen.
/// - Only then are the generations in `change_counters` read again. Triggers in the schema
///   (migration 0005) bump them with every change to the tables a memo reads, in the same
///   transaction as the change. A refresh-token rotation changes neither, so the memos stay.
///
/// A lookup costs a few microseconds, against tens for a read through the pool.
final class ChangeWatch: Sendable {
    /// The generations in `change_counters`, one per kind of memoised data.
    enum Counter: String, CaseIterable {
        /// Client rows.
        case clients
        /// What an access token's standing reads: users, clients, revoked jtis, client revocations.
        case standings
    }

    /// Why the watch could not be opened or read: SQLite's result code and message.
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let message: String
        var description: String { "change watch: \(message) (SQLite code \(code))" }
    }

    private struct Connection: ~Copyable {
        let database: OpaquePointer
        let dataVersion: OpaquePointer
        /// Prepared on first use: the table exists only once the database is migrated.
        var counters: OpaquePointer?
        var seenVersion: Int64?
        var generations: [Counter: Int64] = [:]

        deinit {
            sqlite3_finalize(counters)
            sqlite3_finalize(dataVersion)
            sqlite3_close_v2(database)
        }

        func failure(_ code: Int32) -> Failure {
            Failure(code: code, message: String(cString: sqlite3_errmsg(database)))
        }
    }

    private let connection: Mutex<Connection>

    /// Opens its own connection to the database at `path`, which must already exist.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(Failure) {
        var database: OpaquePointer?
        let opened = sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
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
        connection = Mutex(Connection(database: database, dataVersion: statement))
    }

    /// The counter's generation now. Equal values mean nothing it counts changed in between.
    func generation(of counter: Counter) throws(Failure) -> Int64 {
        try connection.withLock { (connection: inout Connection) throws(Failure) -> Int64 in
            let version = try Self.dataVersion(&connection)
            if version != connection.seenVersion {
                // Read after the version: the generations are at least as new as it.
                connection.generations = try Self.generations(&connection)
                connection.seenVersion = version
            }
            guard let generation = connection.generations[counter] else {
                throw Failure(code: SQLITE_NOTFOUND, message: "no counter \(counter.rawValue) in change_counters")
            }
            return generation
        }
    }

    private static func dataVersion(_ connection: inout Connection) throws(Failure) -> Int64 {
        defer { sqlite3_reset(connection.dataVersion) }
        let stepped = sqlite3_step(connection.dataVersion)
        guard stepped == SQLITE_ROW else { throw connection.failure(stepped) }
        return sqlite3_column_int64(connection.dataVersion, 0)
    }

    private static func generations(_ connection: inout Connection) throws(Failure) -> [Counter: Int64] {
        if connection.counters == nil {
            var statement: OpaquePointer?
            let prepared = sqlite3_prepare_v2(connection.database, "SELECT name, generation FROM change_counters", -1, &statement, nil)
            guard prepared == SQLITE_OK else { throw connection.failure(prepared) }
            connection.counters = statement
        }
        guard let statement = connection.counters else { throw Failure(code: SQLITE_MISUSE, message: "no statement") }
        defer { sqlite3_reset(statement) }
        var generations: [Counter: Int64] = [:]
        while true {
            let stepped = sqlite3_step(statement)
            if stepped == SQLITE_DONE { return generations }
            guard stepped == SQLITE_ROW else { throw connection.failure(stepped) }
            if let name = sqlite3_column_text(statement, 0), let counter = Counter(rawValue: String(cString: name)) {
                generations[counter] = sqlite3_column_int64(statement, 1)
            }
        }
    }
}
