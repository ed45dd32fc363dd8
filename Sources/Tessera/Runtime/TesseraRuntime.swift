import Foundation
import Hummingbird
import Logging
import TesseraCognito
import TesseraCore
import ServiceLifecycle
import TesseraCrypto
import TesseraEvents
import TesseraMail
import TesseraMetrics
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
    static func openAndMigrate(_ settings: Settings, metrics: ServiceMetrics = .disabled) throws -> (storage: SQLiteStorage, applied: [String]) {
        do {
            let storage = try SQLiteStorage(path: settings.database, metrics: metrics)
            return (storage, try storage.migrate())
        } catch {
            throw StartupError(error.description)
        }
    }

    /// Loads the keys dir (generating a key when empty), reconciles it with the database, and
    /// returns the ring the server signs and verifies with.
    public static func loadKeys(_ settings: Settings, storage: some SigningKeyStore & ClientStore, logger: Logger, now: Date = Date()) async throws -> KeyRing {
        let custody = try KeyCustody(settings, storage: storage)
        let records: [SigningKeyRecord]
        do {
            switch custody.place {
            case .directory(let directory):
                let (loaded, generated) = try directory.loadOrGenerate()
                if let generated {
                    logger.notice("generated a signing key", metadata: ["key.kid": "\(generated.kid)", "key.file": "\(generated.file.path)"])
                }
                records = try await storage.reconcileSigningKeys(
                    present: loaded.map { SigningKeyMaterial(kid: $0.kid, publicJWK: $0.key.publicKey.jwk.jsonString()) },
                    preferred: loaded[0].kid,
                    retireMissingAfter: now.addingTimeInterval(try await settings.longestTokenLifetime(clients: storage)),
                    now: now)
            case .database:
                let existing = try await storage.allSigningKeys()
                if existing.contains(where: { $0.state == .active }) {
                    records = existing
                } else {
                    // The first start of a deployment: one key, stored sealed; of instances
                    // starting together one stores its key and the others use it.
                    let generated = try custody.generate()
                    records = try await storage.storeFirstSigningKey(
                        SigningKeyMaterial(kid: generated.key.publicKey.jwk.kid!, publicJWK: generated.key.publicKey.jwk.jsonString()),
                        sealedPrivateKey: generated.sealed!, now: now)
                    logger.notice("generated a signing key, stored sealed in the database", metadata: ["key.kid": "\(generated.key.publicKey.jwk.kid!)"])
                }
            }
            return try KeyRing(records: records, privateKeys: try await custody.privateKeys(), now: now)
        } catch let error as StartupError {
            throw error
        } catch let error as KeyDirectory.Failure {
            throw StartupError(error.description)
        } catch let error as KeyEncryption.OpenFailure {
            throw StartupError(error.description)
        }
    }

    /// Makes the registry match the config file: declared clients are registered or updated
    /// (the file's secret is the secret), and clients the file no longer declares are removed
    /// with their tokens revoked.
    public static func registerConfiguredClients(_ settings: Settings, storage: some ClientStore & SigningKeyStore, logger: Logger, now: Date = Date()) async throws {
        let crypto = OpenSSLPrimitives()
        let sealer = try await KeyCustody(settings, storage: storage).secretSealer()
        var clients: [Client] = []
        for declaration in settings.clients {
            var client = declaration.client(using: crypto, now: now)
            if let secret = declaration.secret {
                client.cognito.sealedSecret = try sealer.seal(Array(secret.utf8), context: CognitoAppSettings.sealingContext(clientID: client.id))
            }
            clients.append(client)
        }
        let removed = try await storage.syncConfiguredClients(clients, now: now)
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
        // No management listener, nobody to read the metrics: none are recorded.
        let metrics = settings.managementPort == 0 ? nil : OperationsRuntime.metrics()
        let serviceMetrics = metrics?.service ?? .disabled
        let storage = try await openDatabase(
            settings, policy: migrate ? .apply : .applyToSQLiteOnly, logger: logger, metrics: serviceMetrics).storage
        let keys = try await loadKeys(settings, storage: storage, logger: logger)
        try await registerConfiguredClients(settings, storage: storage, logger: logger)
        let courier = try MailRuntime.courier(settings, storage: storage, logger: logger)
        let verifiers = try await CognitoRuntime.verifiers(settings, storage: storage, logger: logger)
        let deliverer = try await EventsRuntime.deliverer(settings, storage: storage, logger: logger, metrics: serviceMetrics)
        let dependencies = Dependencies(
            settings: settings, storage: storage, keys: keys, crypto: OpenSSLPrimitives(),
            hooks: try CognitoRuntime.withMigration(hooks, settings: settings), codeSecret: try await MailRuntime.codeSecret(settings, storage: storage), logger: logger, mailQueued: { courier.nudge() },
            passwordObserver: verifiers, metrics: serviceMetrics,
            keyGenerator: CustodyKeyGenerator(custody: try KeyCustody(settings, storage: storage)),
            secretSealer: try await KeyCustody(settings, storage: storage).secretSealer(),
            webhookAdministration: try await EventsRuntime.admin(settings, storage: storage, deliverer: deliverer))
        let refresher = KeyRingRefresher(
            ring: keys, storage: storage, custody: try KeyCustody(settings, storage: storage), settings: settings, logger: logger)
        let dispatcher = WebhookDispatcher(
            deliverer: deliverer, store: storage,
            events: storage.eventsCommitted, now: { Date() }, logger: logger)
        var services: [any Service] = [refresher, MailCourierService(courier: courier), WebhookDispatcherService(dispatcher: dispatcher)]
        if let metrics {
            let endpoint = OperationsRuntime.endpoint(
                factory: metrics.factory, storage: storage, keys: keys, hasher: dependencies.passwordHasher, logger: logger)
            services.append(ManagementListener(application: buildManagementApplication(
                dependencies: dependencies, logger: logger,
                scrape: { accept in
                    let (contentType, body) = await endpoint.scrape(accept: accept)
                    return MetricsPage(contentType: contentType, body: body)
                }
            ) { host, port in
                logger.notice("management listener ready", metadata: ["address": "\(host):\(port)"])
            }, address: "\(settings.managementHost):\(settings.managementPort)"))
        }
        let cognito = try await CognitoRuntime.api(settings, dependencies: dependencies, verifiers: verifiers, logger: logger)
        let application = buildApplication(
            dependencies: dependencies, logger: logger, services: services, moreRoutes: { router in cognito?.addRoutes(to: router) }
        ) { host, port in
            logger.notice("tessera ready", metadata: ["issuer": "\(settings.issuer)", "address": "\(host):\(port)"])
        }
        do {
            try await application.runService()
        } catch let error as ManagementListenerFailure {
            throw StartupError(error.description)
        } catch {
            throw StartupError("cannot serve on \(settings.host):\(settings.port): \(error)")
        }
    }
}
