import Foundation
import Logging
import Testing
import TesseraCore
import TesseraMigrations
import TesseraPostgres
import TesseraStorageConformance
import TesseraTestSupport

/// PostgreSQL on the test cluster: each case a fresh database; another handle is a second
/// `PostgresStorage` (its own connection pool) on the same database, as a second instance holds.
struct PostgresBackend: StorageBackend {
    static let logger = Logger(label: "tessera.test.postgres")

    func makeStorage() async throws -> PostgresStorage {
        let storage = PostgresStorage(url: try PostgresURL(try PostgresTestCluster.makeDatabase()), poolSize: 8, logger: Self.logger)
        try await storage.migrate()
        return storage
    }

    func anotherHandle(on handle: PostgresStorage) async throws -> PostgresStorage {
        PostgresStorage(url: handle.url, poolSize: 8, logger: Self.logger)
    }

    func close(_ handle: PostgresStorage) async {
        await handle.shutdown()
    }
}

@Suite("Storage conformance: PostgreSQL")
struct PostgresConformanceTests {
    @Test(arguments: ConformanceCase.allCases)
    func conformance(_ behaviour: ConformanceCase) async throws {
        try await behaviour.run(on: PostgresBackend())
    }
}

@Suite("PostgreSQL: the schema")
struct PostgresSchemaTests {
    @Test("the PostgreSQL migrations are the SQLite ones, by name and order, and each file is listed")
    func sameSequence() throws {
        #expect(Migrations.postgres.map(\.name) == Migrations.all.map(\.name))
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../migrations/postgres").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".pg.sql") }.sorted()
        #expect(files.map { String($0.dropLast(".pg.sql".count)) } == Migrations.postgres.map(\.name))
        for migration in Migrations.postgres {
            let text = try String(contentsOf: directory.appendingPathComponent(migration.name + ".pg.sql"), encoding: .utf8)
            #expect(text == migration.sql, "\(migration.name) is embedded as written")
        }
    }

    @Test("a fresh database takes every migration once, and again is a no-op")
    func migratesOnce() async throws {
        let storage = PostgresStorage(url: try PostgresURL(try PostgresTestCluster.makeDatabase()), poolSize: 2, logger: PostgresBackend.logger)
        #expect(try await storage.migrate() == Migrations.postgres.map(\.name))
        #expect(try await storage.migrate() == [])
        #expect(await storage.ping())
        await storage.shutdown()
    }
}
