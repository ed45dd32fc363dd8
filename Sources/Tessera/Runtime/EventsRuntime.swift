import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TesseraCore
import TesseraCrypto
import TesseraEvents
import TesseraSQLite

/// Builds the webhook side of a server or an admin command from its settings (contract §9):
/// the sealer of endpoint secrets, the HTTP client and the deliverer.
enum EventsRuntime {
    /// The event loop webhook connections run on: one thread of their own, so that
    /// deliveries never take a turn of the loops that serve HTTP.
    static let webhookLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func sealer(_ settings: Settings, storage: any Storage) async throws -> AESGCMSealer {
        do {
            return try await KeyCustody(settings, storage: storage).webhookSealer()
        } catch let error as StartupError {
            throw error
        } catch let error as KeyDirectory.Failure {
            throw StartupError(error.description)
        }
    }

    static func deliverer(_ settings: Settings, storage: any Storage, logger: Logger, metrics: ServiceMetrics = .disabled) async throws -> WebhookDeliverer {
        let client: WebhookHTTPClient
        do {
            client = try WebhookHTTPClient(
                policy: AddressPolicy(allowPrivateNetworks: settings.webhookAllowPrivateNetworks), group: webhookLoop)
        } catch {
            throw StartupError("webhook TLS: \(error)")
        }
        return WebhookDeliverer(
            store: storage, sealer: try await sealer(settings, storage: storage), client: client, crypto: OpenSSLPrimitives(), settings: settings,
            now: { Date() }, logger: logger, metrics: metrics)
    }

    /// The webhook administration of the CLI and the admin API; a test event goes out through `deliverer`.
    static func admin(_ settings: Settings, storage: any Storage, deliverer: WebhookDeliverer) async throws -> WebhookAdmin {
        WebhookAdmin(
            store: storage, sealer: try await sealer(settings, storage: storage), crypto: OpenSSLPrimitives(), settings: settings,
            deliverer: deliverer, now: { Date() })
    }
}

/// Runs the webhook dispatcher for as long as the server runs.
struct WebhookDispatcherService: Service {
    let dispatcher: WebhookDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown { await dispatcher.run() }
    }
}
