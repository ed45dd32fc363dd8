import Foundation
import GRDB
import Testing
import TesseraCore
import TesseraMigrations
@testable import TesseraSQLite
import TesseraTestSupport

@Suite("SQLite storage: opening and migrations")
struct SQLiteStorageTests {
    let directory = TemporaryDirectory()

    @Test("opening creates the file and its directory, in WAL with synchronous=FULL and foreign keys on")
    func durableSettings() throws {
        let storage = try SQLiteStorage(path: directory.path("nested/dir/tessera.sqlite"))
        #expect(FileManager.default.fileExists(atPath: directory.path("nested/dir/tessera.sqlite")))
        #expect(try storage.writerPragma("journal_mode") == "wal")
        #expect(try storage.writerPragma("synchronous") == "2") // FULL
        #expect(try storage.writerPragma("foreign_keys") == "1")
        #expect(try storage.writerPragma("busy_timeout") == "5000")
    }

    @Test("migrations apply in order once; applying again is a no-op")
    func migrateTwice() throws {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        #expect(try storage.migrate() == Migrations.all.map(\.name))
        let schema = try storage.pool.read { db in try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") }
        #expect(try storage.migrate() == [])
        let reopened = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        #expect(try reopened.migrate() == [])
        let after = try reopened.pool.read { db in try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") }
        #expect(after == schema)
    }

    @Test("a failing migration rolls back completely and names its file and SQLite's message")
    func failingMigrationRollsBack() throws {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        let good = Migration("0001_good", Array("CREATE TABLE good (id INTEGER PRIMARY KEY);".utf8))
        let bad = Migration("0002_bad", Array("CREATE TABLE half (id INTEGER); INSERT INTO missing VALUES (1);".utf8))
        #expect(throws: SQLiteStorage.OpenError.migrationFailed(file: "0002_bad.sql", message: "no such table: missing")) {
            try storage.migrate([good, bad])
        }
        let tables = try storage.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(tables.contains("good"))
        #expect(!tables.contains("half"))
        let recorded = try storage.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(recorded == ["0001_good"])
    }

    @Test("a database migrated by a newer version is refused")
    func newerSchemaRefused() throws {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        try storage.migrate(Migrations.all + [Migration("9999_future", Array("CREATE TABLE future (id INTEGER);".utf8))])
        #expect(throws: SQLiteStorage.OpenError.newerSchema(path: directory.path("tessera.sqlite"), unknown: ["9999_future"])) {
            try storage.migrate()
        }
    }

    @Test("a file that is not a database cannot be opened")
    func notADatabase() throws {
        let path = try directory.write("garbage.sqlite", String(repeating: "not a database ", count: 100))
        #expect(throws: SQLiteStorage.OpenError.self) { try SQLiteStorage(path: path) }
    }

    @Test("every SQL file in migrations/sql is listed, in name order")
    func everyFileListed() throws {
        let folder = TesseraBinary.packageRoot.appendingPathComponent("migrations/sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migrations.all.map(\.name))
        for migration in Migrations.all {
            let text = try String(contentsOf: folder.appendingPathComponent(migration.name + ".sql"), encoding: .utf8)
            #expect(text == migration.sql, "\(migration.name) is embedded as written")
            #expect(migration.name.range(of: #"^\d{4}_[a-z0-9_]+$"#, options: .regularExpression) != nil)
        }
    }
}

@Suite("SQLite storage: signing keys")
struct SigningKeyStoreTests {
    let directory = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func storage() throws -> SQLiteStorage {
        let storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        try storage.migrate()
        return storage
    }

    func material(_ kid: String) -> SigningKeyMaterial { SigningKeyMaterial(kid: kid, publicJWK: #"{"kid":"\#(kid)"}"#) }

    @Test("the first key becomes active; a restart with the same key changes nothing")
    func firstStart() async throws {
        let storage = try storage()
        let first = try await storage.reconcileSigningKeys(present: [material("a")], preferred: "a", retireMissingAfter: now + 900, now: now)
        #expect(first.map(\.kid) == ["a"])
        #expect(first.map(\.state) == [.active])
        let again = try await storage.reconcileSigningKeys(present: [material("a")], preferred: "a", retireMissingAfter: now + 1000, now: now + 50)
        #expect(again == first)
        #expect(try await storage.allSigningKeys() == first)
    }

    @Test("a new key beside the active one is recorded as retired, not activated")
    func extraKey() async throws {
        let storage = try storage()
        _ = try await storage.reconcileSigningKeys(present: [material("a")], preferred: "a", retireMissingAfter: now + 900, now: now)
        let records = try await storage.reconcileSigningKeys(present: [material("b"), material("a")], preferred: "b", retireMissingAfter: now + 900, now: now + 1)
        #expect(Dictionary(uniqueKeysWithValues: records.map { ($0.kid, $0.state) }) == ["a": .active, "b": .retired])
    }

    @Test("when the active key's file is gone, it retires after the given time and the preferred key signs")
    func missingActiveKey() async throws {
        let storage = try storage()
        _ = try await storage.reconcileSigningKeys(present: [material("a")], preferred: "a", retireMissingAfter: now + 900, now: now)
        let records = try await storage.reconcileSigningKeys(present: [material("b")], preferred: "b", retireMissingAfter: now + 900, now: now)
        let byKid = Dictionary(uniqueKeysWithValues: records.map { ($0.kid, $0) })
        #expect(byKid["a"]?.state == .retiring)
        #expect(byKid["a"]?.retireAfter == now + 900)
        #expect(byKid["b"]?.state == .active)
        #expect(byKid["a"]?.isPublished(at: now + 899) == true)
        #expect(byKid["a"]?.isPublished(at: now + 901) == false)
    }

    @Test("the database allows only one active key")
    func oneActiveKey() async throws {
        let storage = try storage()
        _ = try await storage.reconcileSigningKeys(present: [material("a")], preferred: "a", retireMissingAfter: now + 900, now: now)
        #expect(throws: DatabaseError.self) {
            try storage.pool.write { db in
                try db.execute(sql: "INSERT INTO signing_keys (kid, state, created_at, public_jwk) VALUES ('x', 'active', 0, '{}')")
            }
        }
    }
}
