import Foundation
import Logging
import TesseraCore
import TesseraMigrations
import TesseraPostgres
import TesseraSQLite

/// The database a setting names (contract §10.1): a path or `sqlite:///path` is SQLite, a
/// `postgres://` or `postgresql://` URL is PostgreSQL.
enum DatabaseLocation: Equatable {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// Parses the `database` setting; a PostgreSQL URL is checked whole (user, database, sslmode).
    init(_ value: String) throws(PostgresURL.Invalid) {
        if PostgresURL.isPostgres(value) {
            self = .postgres(try PostgresURL(value))
        } else if value.hasPrefix("sqlite://") {
            self = .sqlite(path: String(value.dropFirst("sqlite://".count)))
        } else {
            self = .sqlite(path: value)
        }
    }

    /// How to name it in messages: the path, or the URL with its password masked.
    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url.description
        }
    }
}

/// When the schema may be brought up to date on opening.
enum MigrationPolicy {
    /// Apply pending migrations (`tessera migrate`, `serve --migrate`).
    case apply
    /// SQLite migrates itself (one process owns the file); PostgreSQL, shared by several
    /// instances, must already be up to date (`tessera migrate` once, then start them).
    case applyToSQLiteOnly
}

extension TesseraRuntime {
    /// Opens the database the settings name and, as `policy` says, migrates it. Returns the
    /// storage and the migrations applied. A schema newer than this binary is refused; an
    /// older PostgreSQL schema without `.apply` is refused with the command that fixes it.
    static func openDatabase(
        _ settings: Settings, policy: MigrationPolicy, logger: Logger, metrics: ServiceMetrics = .disabled
    ) async throws -> (storage: any Storage, applied: [String]) {
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation(settings.database)
        } catch {
            throw StartupError("database: \(error.description)")
        }
        switch location {
        case .sqlite(let path):
            var sqlite = settings
            sqlite.database = path
            let (storage, applied) = try openAndMigrate(sqlite, metrics: metrics)
            return (storage, applied)
        case .postgres(let url):
            let storage = PostgresStorage(
                url: url, poolSize: settings.databasePoolSize, applicationName: "tessera:\(settings.instanceID)",
                syncInterval: settings.clusterSyncInterval, logger: logger, metrics: metrics)
            do {
                if policy == .apply { return (storage, try await storage.migrate()) }
                let applied = Set(try await storage.appliedMigrations())
                let unknown = applied.subtracting(Migrations.postgres.map(\.name))
                if !unknown.isEmpty {
                    throw StartupError(
                        "database \(url) has migrations this tessera does not know (\(unknown.sorted().joined(separator: ", "))): it was written by a newer version")
                }
                let pending = Migrations.postgres.map(\.name).filter { !applied.contains($0) }
                if !pending.isEmpty {
                    throw StartupError(
                        "database \(url) is not up to date (\(pending.count) pending migration\(pending.count == 1 ? "" : "s")): run `tessera migrate --database …` once, or serve with --migrate")
                }
                return (storage, [])
            } catch let error as StartupError {
                await storage.shutdown()
                throw error
            } catch {
                await storage.shutdown()
                throw StartupError("database \(url): \(describe(error))")
            }
        }
    }

    /// Opens the database the settings name, as the admin commands do: an SQLite file is
    /// migrated, a PostgreSQL database must already be up to date.
    public static func openDatabase(_ settings: Settings, logger: Logger) async throws -> any Storage {
        try await openDatabase(settings, policy: .applyToSQLiteOnly, logger: logger).storage
    }

    /// A database failure in one line, with PostgreSQL's own message when there is one.
    static func describe(_ error: any Error) -> String {
        if let failure = error as? PostgresMigrator.Failure { return failure.description }
        return PostgresMigrator.message(error)
    }
}
