import ArgumentParser
import Foundation
import TesseraCore

/// The flags every command shares to find its database (and keys), plus the config file.
public struct SettingsOptions: ParsableArguments {
    @Option(help: "SQLite database file (env TESSERA_DATABASE; default ./data/tessera.sqlite).")
    var database: String?

    @Option(name: .customLong("keys-dir"), help: "Directory of RSA signing keys as PEM files (env TESSERA_KEYS_DIR; default ./keys).")
    var keysDir: String?

    @Option(help: "YAML config file of flat settings (keys as in the README); env TESSERA_CONFIG.")
    var config: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env TESSERA_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json (env TESSERA_LOG_FORMAT; default text).")
    var logFormat: String?

    public init() {}

    var flags: [String: String] {
        ["database": database, "keys_dir": keysDir, "log_level": logLevel, "log_format": logFormat].compactMapValues { $0 }
    }

    /// Settings from these flags, the environment, the config file and defaults.
    func resolve(extraFlags: [String: String] = [:]) throws -> Settings {
        try SettingsResolver(
            flags: flags.merging(extraFlags) { $1 },
            configFile: config ?? ProcessInfo.processInfo.environment["TESSERA_CONFIG"]
        ).resolve()
    }
}
