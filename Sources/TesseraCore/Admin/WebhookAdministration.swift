import Foundation

/// The administration of webhook endpoints and their deliveries (contract §9.4): what the
/// admin CLI (`tessera admin webhooks …`) and the admin HTTP API (`/admin/v1/webhooks`) both
/// call. Its one implementation lives with the webhook sender (`TesseraEvents.WebhookAdmin`),
/// which owns the SSRF guard, the secrets' format and the deliverer a test goes through; the
/// composition root hands it to the adapters as this protocol.
///
/// Every change is audited with the actor the adapter names; refusals are ``AdminFailure``s.
public protocol WebhookAdministration: Sendable {
    func list() async throws -> [WebhookEndpoint]
    /// Throws ``AdminFailure/notFound(_:)``.
    func endpoint(_ id: String) async throws -> WebhookEndpoint
    /// Registers `url` for `eventTypes` (every type when empty); the secret is returned this once.
    func create(url: String, eventTypes: [String], description: String?, actor: String) async throws -> WebhookRegistration
    /// Enables an endpoint (its waiting deliveries go out again) or disables it.
    func setEnabled(_ enabled: Bool, endpointID: String, actor: String) async throws
    /// Deletes an endpoint and its deliveries.
    func delete(endpointID: String, actor: String) async throws
    /// A new secret, returned this once; the old one also signs for `overlap` seconds.
    func rotateSecret(endpointID: String, overlap: Int, actor: String) async throws -> String
    /// An endpoint's deliveries, newest first.
    func deliveries(endpointID: String, status: DeliveryStatus?, userID: String?, limit: Int) async throws -> [WebhookDelivery]
    /// Queues dead letters again; returns how many.
    func retry(_ selection: DeliveryRetrySelection, actor: String) async throws -> Int
    /// Queues the log after `after` (of `userID`'s events only, when given) to the endpoint again; returns how many.
    func replay(endpointID: String, after: Int64, userID: String?, actor: String) async throws -> Int
    /// Queues a `webhook.test` event for the endpoint and attempts it at once: its delivery id
    /// and the attempt's result (nil when a running server took the delivery first).
    func test(endpointID: String, actor: String) async throws -> (deliveryID: Int64, result: DeliveryResult?)
}

/// A newly registered endpoint and its signing secret, which is shown this once.
public struct WebhookRegistration: Sendable {
    public let endpoint: WebhookEndpoint
    public let secret: String

    public init(endpoint: WebhookEndpoint, secret: String) {
        self.endpoint = endpoint
        self.secret = secret
    }
}

/// The admin CLI's `--json` shapes of endpoints and deliveries, which the admin API answers
/// with as well.
public enum WebhookAdministrationJSON {
    /// Accepted rotation overlaps, in seconds (up to 30 days).
    public static let overlapRange = 0...2_592_000
    /// How long the old secret signs beside a new one unless told otherwise: a day.
    public static let defaultOverlap = 86_400

    public static func endpoint(_ endpoint: WebhookEndpoint) -> [String: Any] {
        [
            "id": endpoint.id, "url": endpoint.url, "events": endpoint.eventTypes.map { $0.map(\.rawValue) as Any } ?? NSNull(),
            "enabled": endpoint.enabled, "disabled_reason": endpoint.disabledReason.map { $0 as Any } ?? NSNull(),
            "description": endpoint.description.map { $0 as Any } ?? NSNull(), "created_at": UserAdministration.timestamp(endpoint.createdAt),
        ]
    }

    /// What `create` answers: the endpoint's id, URL and types, and its secret.
    public static func registration(_ registration: WebhookRegistration) -> [String: Any] {
        let endpoint = registration.endpoint
        return ["id": endpoint.id, "url": endpoint.url, "secret": registration.secret, "events": endpoint.eventTypes.map { $0.map(\.rawValue) as Any } ?? NSNull()]
    }

    public static func delivery(_ delivery: WebhookDelivery) -> [String: Any] {
        [
            "delivery_id": delivery.id, "event_id": delivery.eventID, "type": delivery.eventType.rawValue, "user_id": delivery.userID,
            "status": delivery.status.rawValue, "attempts": delivery.attempts,
            "last_status": delivery.lastStatus.map { $0 as Any } ?? NSNull(),
            "last_error": delivery.lastError.map { $0 as Any } ?? NSNull(),
            "next_attempt_at": delivery.nextAttemptAt.map { UserAdministration.timestamp($0) as Any } ?? NSNull(),
        ]
    }
}
