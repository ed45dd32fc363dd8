import ArgumentParser
import Foundation
import TesseraCore

/// `tessera migrate`: apply pending migrations and exit.
public struct MigrateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations and exit.",
        discussion: """
            Each migration runs in its own transaction; one that fails leaves the database as \
            it was and names its file. On PostgreSQL the migrations run under an advisory lock, \
            so instances started together never race.

            Example:
              tessera migrate --database ./data/tessera.sqlite
              tessera migrate --database 'postgres://tessera@/tessera?host=/run/postgresql'
            """)

    @OptionGroup var options: SettingsOptions

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Accepted for scripts; migrate destroys nothing.")
    var yes = false

    public init() {}

    public func run() async throws {
        let settings = try options.resolve()
        let logger = TesseraRuntime.bootstrapLogging(settings)
        let (_, applied) = try await TesseraRuntime.openDatabase(settings, policy: .apply, logger: logger)
        // Named as the operator gave it, a PostgreSQL password masked.
        let database = (try? DatabaseLocation(settings.database))?.description ?? settings.database
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["database": database, "applied": applied], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else if applied.isEmpty {
            print("\(database): up to date, no migration applied")
        } else {
            print("\(database): applied \(applied.joined(separator: ", "))")
        }
    }
}
