import Foundation
import Logging
import TesseraCore

/// Makes one attempt of a claimed delivery and records how it ended: the event's CloudEvents
/// envelope, signed as Standard Webhooks says with the endpoint's secret (and its previous one
/// during a rotation's overlap), POSTed under `webhook_timeout`, the answer judged by the
/// ``RetryPolicy``.
public struct WebhookDeliverer: Sendable {
    let store: any WebhookStore
    let sealer: any SecretSealer
    let client: WebhookHTTPClient
    let crypto: any CryptoPrimitives
    let policy: RetryPolicy
    let timeout: TimeInterval
    let disableAfter: TimeInterval
    let publicURL: String
    let now: Now
    let logger: Logger
    let metrics: ServiceMetrics

    public init(
        store: any WebhookStore, sealer: any SecretSealer, client: WebhookHTTPClient, crypto: any CryptoPrimitives, settings: Settings,
        now: @escaping Now, logger: Logger, metrics: ServiceMetrics = .disabled
    ) {
        self.metrics = metrics
        self.store = store
        self.sealer = sealer
        self.client = client
        self.crypto = crypto
        self.policy = RetryPolicy(schedule: settings.webhookRetrySchedule)
        self.timeout = settings.webhookTimeout
        self.disableAfter = settings.webhookDisableAfter
        self.publicURL = settings.publicBaseURL
        self.now = now
        self.logger = logger
    }

    /// How long a claim is leased: the attempt's deadline and a margin to record it.
    public var lease: TimeInterval { timeout + 5 }

    /// Sends `claim` once and records the result. Returns nil when the task was cancelled
    /// before an answer (the lane is given back, not charged an attempt).
    @discardableResult
    public func attempt(_ claim: DeliveryClaim) async -> DeliveryResult? {
        await attempt(claim, continuing: false).result
    }

    /// Sends `claim`, then the lane's next deliveries while they are due, each recorded in
    /// the transaction that leases the next (a lane drains without a claim per delivery).
    public func drain(_ claim: DeliveryClaim) async {
        var next: DeliveryClaim? = claim
        while let current = next, !Task.isCancelled {
            next = await attempt(current, continuing: true).next
        }
    }

    private func attempt(_ claim: DeliveryClaim, continuing: Bool) async -> (result: DeliveryResult?, next: DeliveryClaim?) {
        let outcome = await send(claim)
        if Task.isCancelled, case .failed = outcome {
            try? await store.releaseClaim(claim)
            return (nil, nil)
        }
        let result = policy.result(of: outcome, attemptsBefore: claim.attempts, now: now())
        var next: DeliveryClaim?
        do {
            next = try await store.finishDelivery(
                claim, result: result, disableAfter: disableAfter, now: now(), leasingNextUntil: continuing ? now() + lease : nil)
        } catch {
            // The lease runs out and the delivery is attempted again: at least once holds.
            logger.error("could not record a webhook delivery", metadata: ["delivery.id": "\(claim.deliveryID)", "error": "\(error)"])
        }
        log(claim, result)
        switch result {
        case .delivered: metrics.delivery(.delivered)
        case .retry, .gone: metrics.delivery(.retrying)
        case .dead: metrics.delivery(.failed)
        }
        return (result, next)
    }

    func send(_ claim: DeliveryClaim) async -> AttemptOutcome {
        let target: WebhookTarget
        let keys: [[UInt8]]
        do {
            target = try WebhookTarget(claim.url)
            keys = try [claim.secrets.previous, claim.secrets.current].compactMap { $0 }.map {
                try sealer.open($0, context: claim.endpointID)
            }
        } catch {
            return .failed(.failed("\(error)"))
        }
        let body = claim.event.envelope(publicURL: publicURL)
        let timestamp = now().epochSeconds
        let headers = [
            ("Content-Type", "application/cloudevents+json"),
            ("webhook-id", claim.event.id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.header(id: claim.event.id, timestamp: timestamp, body: body, keys: keys, using: crypto)),
        ]
        do {
            return .answered(try await client.post(target, headers: headers, body: body, timeout: timeout))
        } catch {
            return .failed(error)
        }
    }

    private func log(_ claim: DeliveryClaim, _ result: DeliveryResult) {
        let metadata: Logger.Metadata = [
            "delivery.id": "\(claim.deliveryID)", "webhook.endpoint": "\(claim.endpointID)", "event.id": "\(claim.event.id)",
            "event.type": "\(claim.event.type.rawValue)",
        ]
        switch result {
        case .delivered: logger.debug("webhook delivered", metadata: metadata)
        case .retry(_, _, let error): logger.info("webhook delivery failed; will retry", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        case .dead(_, let error): logger.warning("webhook delivery dead-lettered", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        case .gone: logger.warning("webhook endpoint answered 410 Gone; disabled", metadata: metadata)
        }
    }
}
