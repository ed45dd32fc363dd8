import ArgumentParser
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
        let storage = try TesseraRuntime.openStorage(settings)
        _ = storage
        print(json ? #"{"status":"up_to_date"}"# : "database \(settings.database) is up to date")
    }
}
