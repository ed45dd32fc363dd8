import Foundation
import GRDB
import GRDBSQLite

/// One execution of a statement from GRDB's statement cache, bound, stepped and read through
/// SQLite's C API.
///
/// Used for the one write on a hot path: the refresh grant's rotation. Through GRDB's API, a
/// rotation's lookup built a `Row` (which makes a dictionary of lowercased column names for
/// each row fetched, about 22 k instructions), copied it, and decoded each column through
/// generic conversions; its two writes bound their arguments through `StatementArguments`.
/// Stepped directly, the writer thread's instructions per rotation went from 182 k to 113 k
/// (`scripts/bench-instructions`). Every other statement goes through GRDB.
///
/// The statement stays GRDB's: it is prepared and finalized by GRDB's cache, GRDB resets it
/// before each of its own executions, and ``execute(_:sql:_:)`` resets it before and after,
/// clearing its bindings when done. Errors are GRDB's `DatabaseError`, so callers handle them
/// as before.
struct DirectStatement {
    private let statement: Statement
    private let handle: SQLiteStatement
    private let connection: SQLiteConnection?

    /// Runs `body` with the cached statement for `sql` on `db`, reset before and after.
    static func execute<T>(_ db: Database, sql: String, _ body: (DirectStatement) throws -> T) throws -> T {
        let direct = DirectStatement(statement: try db.cachedStatement(sql: sql), connection: db.sqliteConnection)
        // GRDB resets a statement before running it, not after: one GRDB last ran may still
        // be on a row.
        sqlite3_reset(direct.handle)
        defer {
            sqlite3_reset(direct.handle)
            sqlite3_clear_bindings(direct.handle)
        }
        return try body(direct)
    }

    private init(statement: Statement, connection: SQLiteConnection?) {
        self.statement = statement
        self.handle = statement.sqliteStatement
        self.connection = connection
    }

    // MARK: Binding (indexes start at 1, as in SQL)

    /// Binds a blob (an empty one is bound as a zero-length blob, not NULL).
    func bind(_ bytes: [UInt8], at index: Int32) throws {
        try check(bytes.withUnsafeBytes { buffer in
            buffer.isEmpty ? sqlite3_bind_zeroblob(handle, index, 0)
                : sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        })
    }

    func bind(_ value: Double, at index: Int32) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds a text (an empty one as an empty text, not NULL).
    func bind(_ text: String, at index: Int32) throws {
        var text = text
        try check(text.withUTF8 { utf8 in
            guard let start = utf8.baseAddress, !utf8.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
            return start.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text(handle, index, $0, Int32(utf8.count), Self.transient)
            }
        })
    }

    func bindNull(at index: Int32) throws {
        try check(sqlite3_bind_null(handle, index))
    }

    // MARK: Stepping

    /// Steps once: true when the statement produced a row, false when it is done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code)
        }
    }

    /// Runs a statement that returns no rows to its end.
    func run() throws {
        while try step() {}
    }

    // MARK: Errors

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}

extension DirectStatement: ColumnValues {
    func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    func text(at index: Int) -> String {
        guard let bytes = sqlite3_column_text(handle, Int32(index)) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, Int32(index)))), as: UTF8.self)
    }

    func double(at index: Int) -> Double {
        sqlite3_column_double(handle, Int32(index))
    }

    func bool(at index: Int) -> Bool {
        sqlite3_column_int64(handle, Int32(index)) != 0
    }

    func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(index))
    }
}
