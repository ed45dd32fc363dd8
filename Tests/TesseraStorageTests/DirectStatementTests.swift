import Foundation
import GRDB
import Testing
@testable import TesseraSQLite
import TesseraTestSupport

@Suite("Statements stepped directly")
struct DirectStatementTests {
    let directory = TemporaryDirectory()

    func pool() throws -> DatabasePool {
        let pool = try DatabasePool(path: directory.path("direct.sqlite"))
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE items (key BLOB PRIMARY KEY NOT NULL, name TEXT, amount REAL, flag INTEGER) STRICT")
        }
        return pool
    }

    static let insert = "INSERT INTO items (key, name, amount, flag) VALUES (?, ?, ?, ?)"

    @Test("what is bound is what GRDB reads back: empty text and blob stay empty, not NULL")
    func roundTrip() throws {
        let pool = try pool()
        try pool.write { db in
            for (key, name, amount) in [([UInt8]([1, 2, 3]), "é ✓", 2.5), ([], "", -1.0)] as [([UInt8], String, Double)] {
                try DirectStatement.execute(db, sql: Self.insert) { insert in
                    try insert.bind(key, at: 1)
                    try insert.bind(name, at: 2)
                    try insert.bind(amount, at: 3)
                    try insert.bindNull(at: 4)
                    try insert.run()
                }
            }
        }
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT key, name, amount, flag FROM items ORDER BY key") }
        #expect(rows.map { $0[0] as Data } == [Data(), Data([1, 2, 3])])
        #expect(rows.map { $0[1] as String? } == ["", "é ✓"])
        #expect(rows.map { $0[2] as Double } == [-1.0, 2.5])
        #expect(rows.allSatisfy { $0.hasNull(atIndex: 3) })
    }

    @Test("columns read by position match GRDB's Row for the same row")
    func readsLikeRow() throws {
        let pool = try pool()
        try pool.write { db in
            try db.execute(sql: Self.insert, arguments: [Data([9]), "name", 1.25, 1])
            try db.execute(sql: Self.insert, arguments: [Data([8]), nil, nil, 0])
        }
        try pool.read { db in
            for key in [Data([9]), Data([8])] {
                let sql = "SELECT name, amount, flag FROM items WHERE key = ?"
                let row = try #require(try Row.fetchOne(db, sql: sql, arguments: [key]))
                try DirectStatement.execute(db, sql: sql) { select in
                    try select.bind([UInt8](key), at: 1)
                    #expect(try select.step())
                    #expect(select.optionalText(at: 0) == row.optionalText(at: 0))
                    #expect(select.optionalDouble(at: 1) == row.optionalDouble(at: 1))
                    #expect(select.bool(at: 2) == row.bool(at: 2))
                    #expect(try select.step() == false)
                }
            }
        }
    }

    @Test("a cached statement GRDB left on a row runs again from the start")
    func afterGRDB() throws {
        let pool = try pool()
        try pool.write { db in
            for key in [UInt8(1), 2, 3] { try db.execute(sql: Self.insert, arguments: [Data([key]), "n\(key)", 0, 0]) }
            let sql = "SELECT name FROM items ORDER BY key"
            let statement = try db.cachedStatement(sql: sql)
            let cursor = try String.fetchCursor(statement)
            #expect(try cursor.next() == "n1")  // and left there
            let names = try DirectStatement.execute(db, sql: sql) { select in
                var names: [String] = []
                while try select.step() { names.append(select.text(at: 0)) }
                return names
            }
            #expect(names == ["n1", "n2", "n3"])
        }
    }

    @Test("a failing step throws GRDB's DatabaseError with SQLite's code and message, and the statement can run again")
    func failure() throws {
        let pool = try pool()
        try pool.write { db in
            func insert(_ key: UInt8) throws {
                try DirectStatement.execute(db, sql: Self.insert) { insert in
                    try insert.bind([key], at: 1)
                    try insert.bind("x", at: 2)
                    try insert.bind(0, at: 3)
                    try insert.bindNull(at: 4)
                    try insert.run()
                }
            }
            try insert(1)
            let error = try #require(throws: DatabaseError.self) { try insert(1) }
            #expect(error.resultCode == .SQLITE_CONSTRAINT)
            #expect(error.message?.contains("UNIQUE") == true)
            try insert(2)
            // GRDB's own use of the same cached statement is unaffected.
            try db.cachedStatement(sql: Self.insert).execute(arguments: [Data([3]), "y", 1, 0])
        }
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM items") } == 3)
    }
}
