import Foundation
import Logging
import PostgresNIO
import TesseraMigrations

/// Applies migrations to a PostgreSQL database (contract §10.1): under a session advisory lock
/// held on one connection, so that instances starting together never race; each migration in
/// its own transaction with its record in `tessera_migrations` (PostgreSQL's DDL is
/// transactional, so a failing one leaves nothing behind); a database that has applied a
/// migration this binary does not know is refused (it was written by a newer version).
public struct PostgresMigrator: Sendable {
    /// Why the schema could not be brought up to date.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case migrationFailed(name: String, message: String)
        case newerSchema(unknown: [String])

        public var description: String {
            switch self {
            case .migrationFailed(let name, let message): "migration \(name) failed: \(message)"
            case .newerSchema(let unknown):
                "the database has migrations this tessera does not know (\(unknown.joined(separator: ", "))): it was written by a newer version"
            }
        }
    }

    /// The advisory lock's key: one for every Tessera deployment's migrations.
    static let lockKey: Int64 = 0x7465_7373_6572_61  // "tessera"

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies the migrations of `migrations` not applied yet, in order; returns their names.
    public func migrate(_ migrations: [Migration]) async throws -> [String] {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await apply(migrations, on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                // The lock belongs to this connection: released here, or with the connection.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    /// The names of the migrations the database has applied, in the order applied.
    public func applied() async throws -> [String] {
        try await client.withConnection { connection in try await appliedNames(on: connection) }
    }

    private func appliedNames(on connection: PostgresConnection) async throws -> [String] {
        _ = try await connection.query("""
            CREATE TABLE IF NOT EXISTS tessera_migrations (
                name       TEXT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var names: [String] = []
        for try await name in try await connection.query("SELECT name FROM tessera_migrations ORDER BY applied_at, name", logger: logger)
            .decode(String.self) {
            names.append(name)
        }
        return names
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [String] {
        let done = try await appliedNames(on: connection)
        let known = Set(migrations.map(\.name))
        let unknown = done.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw Failure.newerSchema(unknown: unknown) }
        var applied: [String] = []
        for migration in migrations where !done.contains(migration.name) {
            do {
                // One statement at a time (the extended protocol), all in one transaction.
                _ = try await connection.query("BEGIN", logger: logger)
                for statement in SQLScript.statements(migration.sql) {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query("INSERT INTO tessera_migrations (name) VALUES (\(migration.name))", logger: logger)
                _ = try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw Failure.migrationFailed(name: migration.name, message: Self.message(error))
            }
            logger.notice("migration applied", metadata: ["migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }

    /// PostgreSQL's own message for a server error, what went wrong for a client-side one
    /// (never the query or its values), else the error's description.
    public static func message(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
        }
        return String(describing: error)
    }
}
