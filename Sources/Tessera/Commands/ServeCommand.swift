import ArgumentParser
import TesseraCore

/// `tessera serve`: apply pending migrations and serve.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the identity provider (an SQLite database is migrated first).",
        discussion: """
            Settings come from flags, then TESSERA_* environment variables, then the config \
            file, then defaults. Logs one line when ready; SIGTERM or SIGINT drain in-flight \
            requests and exit 0. A PostgreSQL database shared by several instances must be \
            migrated first with `tessera migrate` (or give --migrate).

            Example:
              tessera serve --port 9000 --issuer https://id.example.com --database /var/lib/tessera/tessera.sqlite
              tessera serve --issuer https://id.example.com --database postgres://tessera@db.internal/tessera?sslmode=verify-full
            """)

    @Option(help: "Listen address (env TESSERA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Listen port (env TESSERA_PORT; default 8080).")
    var port: String?

    @Option(help: "Issuer URL, no trailing slash (env TESSERA_ISSUER; default http://HOST:PORT).")
    var issuer: String?

    @Flag(help: "Apply pending migrations to a PostgreSQL database before serving (SQLite is always migrated).")
    var migrate = false

    @OptionGroup var options: SettingsOptions

    public init() {}

    public func run() async throws {
        try await run(hooks: .none)
    }

    /// Serves with `hooks` registered.
    public func run(hooks: Hooks) async throws {
        let settings = try options.resolve(extraFlags: ["host": host, "port": port, "issuer": issuer].compactMapValues { $0 })
        try await TesseraRuntime.serve(settings: settings, hooks: hooks, migrate: migrate)
    }

    /// The whole `main` of an operator's executable: parses `serve`'s flags from the process's
    /// arguments (no `serve` word needed), serves with `hooks`, and exits with `tessera`'s codes.
    ///
    /// ```swift
    /// import Tessera
    ///
    /// await ServeCommand.main(hooks: Hooks(preSignUp: [MyInviteCheck()], postSignUp: [MyWelcomeMail()]))
    /// ```
    public static func main(hooks: Hooks) async -> Never {
        await CommandLineExit.run(ServeCommand.self) {
            let command = try ServeCommand.parse(Array(CommandLine.arguments.dropFirst()))
            try await command.run(hooks: hooks)
        }
    }
}
