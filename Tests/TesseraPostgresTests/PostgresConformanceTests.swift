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
        let storage = PostgresStorage(url: try PostgresURL(try PostgresTestCluster.makeDatabase()), poolSize: 8, syncInterval: 0.05, logger: Self.logger)
        try await storage.migrate()
        return storage
    }

    func anotherHandle(on handle: PostgresStorage) async throws -> PostgresStorage {
        PostgresStorage(url: handle.url, poolSize: 8, syncInterval: 0.05, logger: Self.logger)
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

@Suite("PostgreSQL: limits shared by instances")
struct PostgresSharedLimitTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("one address's bucket is shared by two handles: of 12 concurrent takes, exactly the burst is admitted")
    func sharedBucket() async throws {
        let backend = PostgresBackend()
        let first = try await backend.makeStorage()
        let second = try await backend.anotherHandle(on: first)
        let waits = try await withThrowingTaskGroup(of: TimeInterval?.self) { group in
            for index in 0..<12 {
                let handle = index.isMultiple(of: 2) ? first : second
                group.addTask { try await handle.takeToken("login:192.0.2.1", rate: 0.5, burst: 5, now: now) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(waits.filter { $0 == nil }.count == 5)
        #expect(waits.compactMap { $0 }.allSatisfy { $0 > 0 && $0 <= 2 }, "a refused take says when a token is back")
        #expect(try await second.takeToken("login:192.0.2.1", rate: 0.5, burst: 5, now: now + 2) == nil, "one token back after 1/rate")
        #expect(try await first.takeToken("login:192.0.2.2", rate: 0.5, burst: 5, now: now) == nil, "another address has its own bucket")
        await backend.close(second)
        await backend.close(first)
    }

    @Test("an account's failures recorded through two handles are one list, capped, windowed and cleared")
    func sharedFailures() async throws {
        let backend = PostgresBackend()
        let first = try await backend.makeStorage()
        let second = try await backend.anotherHandle(on: first)
        let key = Array(repeating: UInt8(7), count: 32)
        try await withThrowingTaskGroup(of: [Date].self) { group in
            for index in 0..<8 {
                let handle = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await handle.recordLoginFailure(key, at: now + Double(index), since: now - 900, keep: 5, expires: now + 900)
                }
            }
            try await group.waitForAll()
        }
        let failures = try await second.loginFailures(key, since: now - 900)
        #expect(failures == (3..<8).map { now + Double($0) }, "the newest five, oldest first")
        #expect(try await first.loginFailures(key, since: now + 5).count == 2, "older failures fall out of the window")
        try await first.clearLoginFailures(key)
        #expect(try await second.loginFailures(key, since: now - 900).isEmpty)
        await backend.close(second)
        await backend.close(first)
    }
}
