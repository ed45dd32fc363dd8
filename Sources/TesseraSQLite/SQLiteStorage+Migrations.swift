import GRDB
import TesseraMigrations

extension SQLiteStorage {
    /// Applies pending migrations in name order, each in its own transaction, recording each
    /// one applied. Applying twice is a no-op. A failing migration is rolled back (the database
    /// stays as it was before it) and reported with its file name and SQLite's message.
    ///
    /// - Returns: the names of the migrations applied now.
    @discardableResult
    public func migrate(_ migrations: [Migration] = Migrations.all) throws(OpenError) -> [String] {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in
                do {
                    try db.execute(sql: migration.sql)
                } catch {
                    throw OpenError.migrationFailed(file: migration.name + ".sql", message: Self.message(error))
                }
            }
        }
        do {
            let applied: Set<String> = try pool.read { db in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try Set(String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            }
            let unknown = applied.subtracting(migrations.map(\.name))
            guard unknown.isEmpty else { throw OpenError.newerSchema(path: path, unknown: unknown.sorted()) }
            try migrator.migrate(pool)
            return migrations.map(\.name).filter { !applied.contains($0) }
        } catch let error as OpenError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: Self.message(error))
        }
    }
}
