import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraCrypto
import TesseraMetrics
import TesseraServer

/// Metrics for `tessera serve` (contract §12.1): one factory per process, the domain series
/// made from it, and the gauges a scrape fills in from the database, the key ring and the
/// password pool.
enum OperationsRuntime {
    /// The process's metrics backend and the domain series that write to it.
    static func metrics() -> (factory: TesseraMetricsFactory, service: ServiceMetrics) {
        let factory = TesseraMetricsFactory()
        return (factory, ServiceMetrics(factory: factory))
    }

    /// `/metrics`: `tessera_mail_queue{status}`, `tessera_webhook_lag_seconds`,
    /// `tessera_signing_key_age_seconds` and the password pool's gauges are read at each
    /// scrape; everything else is recorded as it happens.
    static func endpoint(
        factory: TesseraMetricsFactory, storage: any Storage, keys: KeyRing, hasher: any PasswordHasher, logger: Logger
    ) -> MetricsEndpoint {
        let mailQueue = Dictionary(uniqueKeysWithValues: MailStatus.allCases.map {
            ($0, Gauge(label: "tessera_mail_queue", dimensions: [("status", $0.rawValue)], factory: factory))
        })
        let webhookLag = Gauge(label: "tessera_webhook_lag_seconds", factory: factory)
        let keyAge = Gauge(label: "tessera_signing_key_age_seconds", factory: factory)
        let poolInUse = Gauge(label: "tessera_password_hash_pool_in_use", factory: factory)
        let poolQueue = Gauge(label: "tessera_password_hash_pool_queue", factory: factory)
        return MetricsEndpoint(factory: factory, probes: [
            {
                do {
                    let stats = try await storage.operationalStats()
                    for (status, gauge) in mailQueue { gauge.record(stats.mailByStatus[status] ?? 0) }
                    webhookLag.record(stats.oldestPendingDelivery.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
                } catch {
                    logger.warning("metrics: could not read the mail queue and webhook lag", metadata: ["error": "\(error)"])
                }
            },
            {
                let active = keys.records.first { $0.state == .active }
                keyAge.record(active.map { max(0, Date().timeIntervalSince($0.createdAt)) } ?? 0)
                if let pool = hasher as? BcryptPasswordHasher {
                    let load = pool.load
                    poolInUse.record(load.running)
                    poolQueue.record(load.waiting)
                }
            },
        ])
    }
}

/// The management listener could not run (its port taken, most often).
struct ManagementListenerFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs the management application beside the main one; a failure to listen names the
/// management address, so that start-up says which port was taken.
struct ManagementListener<Application: Service>: Service {
    let application: Application
    let address: String

    func run() async throws {
        do {
            try await application.run()
        } catch {
            throw ManagementListenerFailure(description: "cannot serve the management listener on \(address): \(error)")
        }
    }
}
