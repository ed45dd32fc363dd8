import Foundation
import Hummingbird
import Logging
import TesseraCore
import ServiceLifecycle
import TesseraCrypto
import TesseraEvents
import TesseraMail
import TesseraServer
import TesseraSQLite

/// Why `tessera serve` could not start. The description is the one line printed before exit.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The composition root: opens the database, loads the keys, builds the HTTP application
/// and runs it until SIGTERM or SIGINT, draining in-flight requests.
public enum TesseraRuntime {
    /// Logging is bootstrapped once per process.
    nonisolated(unsafe) private static var loggingBootstrapped = false

    /// Configures process-wide logging from the settings (first call wins).
    public static func bootstrapLogging(_ settings: Settings) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let format = LineLogHandler.Format(rawValue: settings.logFormat) ?? .text
        if !loggingBootstrapped {
            loggingBootstrapped = true
            LoggingSystem.bootstrap { LineLogHandler(label: $0, level: level, format: format) }
        }
        var logger = Logger(label: "tessera")
        logger.logLevel = level
        return logger
    }

    /// Opens and migrates an SQLite database (tests and tools that need SQLite itself).
    public static func openStorage(_ settings: Settings) throws -> SQLiteStorage {
        try openAndMigrate(settings).storage
    }

    /// Opens an SQLite database and applies pending migrations, returning their names.
    static func openAndMigrate(_ settings: Settings) throws -> (storage: SQLiteStorage, applied: [String]) {
        do {
            let storage = try SQLiteStorage(path: settings.database)
            return (storage, try storage.migrate())
        } catch {
            throw StartupError(error.description)
        }
    }

    /// Loads the keys dir (generating a key when empty), reconciles it with the database, and
    /// returns the ring the server signs and verifies with.
    /// The longest an access or ID token can live: the server's lifetime or a client's own,
    /// whichever is longer. A retiring key stays published at least this long.
    public static func longestTokenLifetime(_ settings: Settings, clients: some ClientStore) async throws -> TimeInterval {
        let clientLifetimes = try await clients.listClients().compactMap(\.accessTokenTTL)
        return ([settings.accessTokenTTL] + clientLifetimes + settings.clients.compactMap(\.accessTokenTTL)).max()!
    }

    public static func loadKeys(_ settings: Settings, storage: some SigningKeyStore & ClientStore, logger: Logger, now: Date = Date()) async throws -> KeyRing {
        let directory = KeyDirectory(path: settings.keysDir)
        let loaded: [KeyDirectory.LoadedKey]
        do {
            let (keys, generated) = try directory.loadOrGenerate()
            if let generated {
                logger.notice("generated a signing key", metadata: ["key.kid": "\(generated.kid)", "key.file": "\(generated.file.path)"])
            }
            loaded = keys
        } catch {
            throw StartupError(error.description)
        }
        let records = try await storage.reconcileSigningKeys(
            present: loaded.map { SigningKeyMaterial(kid: $0.kid, publicJWK: $0.key.publicKey.jwk.jsonString()) },
            preferred: loaded[0].kid,
            retireMissingAfter: now.addingTimeInterval(try await longestTokenLifetime(settings, clients: storage)),
            now: now)
        let privateKeys = Dictionary(loaded.map { ($0.kid, $0.key) }, uniquingKeysWith: { first, _ in first })
        return try KeyRing(records: records, privateKeys: privateKeys, now: now)
    }

    /// Makes the registry match the config file: declared clients are registered or updated
    /// (the file's secret is the secret), and clients the file no longer declares are removed
    /// with their tokens revoked.
    public static func registerConfiguredClients(_ settings: Settings, storage: some ClientStore, logger: Logger, now: Date = Date()) async throws {
        let crypto = OpenSSLPrimitives()
        let removed = try await storage.syncConfiguredClients(settings.clients.map { $0.client(using: crypto, now: now) }, now: now)
        for declaration in settings.clients {
            logger.info("client registered from config", metadata: ["client.id": "\(declaration.id)"])
        }
        for id in removed {
            logger.notice("client no longer in the config file: removed, its tokens revoked", metadata: ["client.id": "\(id)"])
        }
    }

    /// Serves until SIGTERM or SIGINT, with `hooks` registered. Throws ``StartupError`` for
    /// anything that stops start-up.
    public static func serve(settings: Settings, hooks: Hooks = .none, migrate: Bool = false) async throws {
        let logger = bootstrapLogging(settings)
        let storage = try await openDatabase(settings, policy: migrate ? .apply : .applyToSQLiteOnly, logger: logger).storage
        let keys = try await loadKeys(settings, storage: storage, logger: logger)
        try await registerConfiguredClients(settings, storage: storage, logger: logger)
        let courier = try MailRuntime.courier(settings, storage: storage, logger: logger)
        let dependencies = Dependencies(
            settings: settings, storage: storage, keys: keys, crypto: OpenSSLPrimitives(), hooks: hooks,
            codeSecret: try MailRuntime.codeSecret(settings), logger: logger, mailQueued: { courier.nudge() })
        let refresher = KeyRingRefresher(ring: keys, storage: storage, directory: KeyDirectory(path: settings.keysDir), logger: logger)
        let dispatcher = WebhookDispatcher(
            deliverer: try EventsRuntime.deliverer(settings, storage: storage, logger: logger), store: storage,
            events: storage.eventsCommitted, now: { Date() }, logger: logger)
        let services: [any Service] = [refresher, MailCourierService(courier: courier), WebhookDispatcherService(dispatcher: dispatcher)]
        let application = buildApplication(dependencies: dependencies, logger: logger, services: services) { host, port in
            logger.notice("tessera ready", metadata: ["issuer": "\(settings.issuer)", "address": "\(host):\(port)"])
        }
        do {
            try await application.runService()
        } catch {
            throw StartupError("cannot serve on \(settings.host):\(settings.port): \(error)")
        }
    }
}
