import Foundation
import Logging
import PostgresNIO
import Testing
import TesseraMigrations
@testable import TesseraPostgres
import TesseraTestSupport

@Suite("PostgreSQL: database URLs")
struct PostgresURLTests {
    @Test("TCP and Unix-socket URLs, percent-decoded, sslmode defaulting to prefer")
    func parsing() throws {
        let tcp = try PostgresURL("postgres://tessera:p%40ss@db.example.com:6432/idp?sslmode=verify-full")
        #expect(tcp.endpoint == .tcp(host: "db.example.com", port: 6432))
        #expect(tcp.username == "tessera" && tcp.password == "p@ss" && tcp.database == "idp" && tcp.sslMode == .verifyFull)
        #expect(tcp.description == "postgres://tessera:***@db.example.com:6432/idp?sslmode=verify-full", "the password is masked")
        let socket = try PostgresURL("postgresql://tessera@/idp?host=/run/postgresql")
        #expect(socket.endpoint == .socket(directory: "/run/postgresql", port: 5432) && socket.password == nil && socket.sslMode == .prefer)
        #expect(PostgresURL.isPostgres("postgres://x") && !PostgresURL.isPostgres("./data/tessera.sqlite"))
    }

    @Test("refused URLs say why, without the password", arguments: [
        ("./data/tessera.sqlite", "not a postgres"),
        ("postgres://db.example.com/idp", "no user"),
        ("postgres://u:secret@db.example.com/", "no database"),
        ("postgres://u:secret@db.example.com/idp?sslmode=maybe", "sslmode must be"),
        ("postgres://u:secret@db.example.com/idp?application_name=x", "unknown parameter"),
        ("postgres://u@/idp?host=relative/dir", "absolute path"),
        ("postgres://u@/idp?host=/run/postgresql&sslmode=require", "Unix socket"),
        ("postgres://u:secret@/idp", "no host"),
    ])
    func refused(_ url: String, _ reason: String) {
        do {
            _ = try PostgresURL(url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("secret"))
        }
    }
}

@Suite("PostgreSQL: migrations")
struct PostgresMigratorTests {
    let logger = Logger(label: "test")

    /// Runs `body` with a client on a fresh database of the test cluster.
    func withClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let url = try PostgresURL(try PostgresTestCluster.makeDatabase())
        let client = PostgresClient(configuration: url.clientConfiguration(poolSize: 8))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    static let migrations = [
        Migration("0001_first", Array("CREATE TABLE first (id BIGINT PRIMARY KEY); CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;".utf8)),
        Migration("0002_second", Array("ALTER TABLE first ADD COLUMN note TEXT;".utf8)),
    ]

    @Test("migrations apply once, in order; again is a no-op")
    func applyOnce() async throws {
        try await withClient { client async throws in
            let migrator = PostgresMigrator(client: client, logger: logger)
            #expect(try await migrator.migrate(Self.migrations) == ["0001_first", "0002_second"])
            #expect(try await migrator.migrate(Self.migrations) == [])
            #expect(try await migrator.applied() == ["0001_first", "0002_second"])
        }
    }

    @Test("eight migrators starting together apply each migration once (the advisory lock)")
    func concurrent() async throws {
        try await withClient { client async throws in
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 { group.addTask { try await PostgresMigrator(client: client, logger: logger).migrate(Self.migrations) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.flatMap { $0 }.sorted() == ["0001_first", "0002_second"])
        }
    }

    @Test("a failing migration leaves nothing behind and names itself; a newer schema is refused")
    func failures() async throws {
        try await withClient { client async throws in
            let migrator = PostgresMigrator(client: client, logger: logger)
            let bad = Self.migrations + [Migration("0003_bad", Array("CREATE TABLE half (id INT); INSERT INTO missing VALUES (1);".utf8))]
            await #expect(throws: PostgresMigrator.Failure.migrationFailed(name: "0003_bad", message: "relation \"missing\" does not exist")) {
                try await migrator.migrate(bad)
            }
            #expect(try await migrator.applied() == ["0001_first", "0002_second"])
            let half = try await client.query("SELECT to_regclass('half') IS NULL", logger: logger).decode(Bool.self).reduce(into: []) { $0.append($1) }
            #expect(half == [true], "the failed migration's table was rolled back")
            await #expect(throws: PostgresMigrator.Failure.newerSchema(unknown: ["0002_second"])) {
                try await migrator.migrate(Array(Self.migrations.prefix(1)))
            }
        }
    }
}

@Suite("PostgreSQL: migration scripts")
struct SQLScriptTests {
    @Test("statements split at semicolons outside strings, identifiers, dollar quotes and comments")
    func splitting() {
        let script = """
            CREATE TABLE a (x TEXT DEFAULT 'semi;colon', "odd;name" INT); -- a comment; with a semicolon
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := 'a;b'; RETURN NEW; END $$;
            /* block; /* nested; */ still comment; */ INSERT INTO a VALUES ('it''s; fine', 1);
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;;
            SELECT $1
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 5)
        #expect(statements[0] == #"CREATE TABLE a (x TEXT DEFAULT 'semi;colon', "odd;name" INT)"#)
        #expect(statements[1].hasPrefix("-- a comment; with a semicolon\nCREATE FUNCTION f()") && statements[1].hasSuffix("END $$"))
        #expect(statements[2].hasSuffix("INSERT INTO a VALUES ('it''s; fine', 1)"))
        #expect(statements[3].hasSuffix("$body$ SELECT 1; $body$"))
        #expect(statements[4] == "SELECT $1")
    }
}
