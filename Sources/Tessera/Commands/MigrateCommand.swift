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
            it was and names its file.

            Example:
              tessera migrate --database ./data/tessera.sqlite
            """)

    @OptionGroup var options: SettingsOptions

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Accepted for scripts; migrate destroys nothing.")
    var yes = false

    public init() {}

    public func run() async throws {
        let settings = try options.resolve()
        _ = TesseraRuntime.bootstrapLogging(settings)
        let (_, applied) = try TesseraRuntime.openAndMigrate(settings)
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["database": settings.database, "applied": applied], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else if applied.isEmpty {
            print("\(settings.database): up to date, no migration applied")
        } else {
            print("\(settings.database): applied \(applied.joined(separator: ", "))")
        }
    }
}
