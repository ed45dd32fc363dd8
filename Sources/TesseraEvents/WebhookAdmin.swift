import Foundation
import TesseraCore

/// The administration of webhook endpoints (contract §9.4), one implementation for every
/// adapter (the admin CLI and the admin HTTP API, through ``WebhookAdministration``):
/// registration with its checks, enabling, deleting, secret rotation, the deliveries, their
/// retries and replays, and the test event. Every change is audited.
public struct WebhookAdmin: WebhookAdministration {
    public typealias Store = WebhookStore & AuditLog

    let store: any Store
    let sealer: any SecretSealer
    let crypto: any CryptoPrimitives
    let policy: AddressPolicy
    /// What a test event is sent with.
    let deliverer: WebhookDeliverer
    let now: Now

    public init(
        store: any Store, sealer: any SecretSealer, crypto: any CryptoPrimitives, settings: Settings, deliverer: WebhookDeliverer,
        now: @escaping Now
    ) {
        self.store = store
        self.sealer = sealer
        self.crypto = crypto
        self.policy = AddressPolicy(allowPrivateNetworks: settings.webhookAllowPrivateNetworks)
        self.deliverer = deliverer
        self.now = now
    }

    public func list() async throws -> [WebhookEndpoint] {
        try await store.endpoints()
    }

    public func endpoint(_ id: String) async throws -> WebhookEndpoint {
        guard let found = try await store.endpoint(id: id) else { throw Self.noSuchEndpoint(id) }
        return found
    }

    /// Registers `url` for `eventTypes` (all when empty). The URL must pass the SSRF guard
    /// now (its host resolved); it is checked again at every connection.
    public func create(url: String, eventTypes: [String], description: String?, actor: String) async throws -> WebhookRegistration {
        let types = try Self.eventTypes(eventTypes)
        if let description, description.count > 200 || description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw AdminFailure.invalid("the description must be at most 200 characters, without control characters")
        }
        do {
            _ = try await WebhookTarget(url).resolve(policy: policy)
        } catch let invalid as WebhookTarget.Invalid {
            throw AdminFailure.invalid("invalid webhook URL: \(invalid.description)")
        }
        let endpoint = WebhookEndpoint(
            id: "whe_" + RandomIdentifier.make(using: crypto), url: url, description: description, eventTypes: types, createdAt: now())
        let secret = WebhookSignature.makeSecret(using: crypto)
        try await store.createEndpoint(endpoint, secret: try sealer.seal(secret.key, context: endpoint.id), now: now())
        try await audit(actor, "webhooks.create", "webhook \(endpoint.id)", details: endpoint.url)
        return WebhookRegistration(endpoint: endpoint, secret: secret.text)
    }

    /// The checked types; nil (every type) for none.
    static func eventTypes(_ names: [String]) throws(AdminFailure) -> [EventType]? {
        guard !names.isEmpty else { return nil }
        var types: [EventType] = []
        for name in names {
            guard let type = EventType(rawValue: name), type != .webhookTest else {
                throw .invalid("unknown event type \(name); known: \(EventType.allCases.filter { $0 != .webhookTest }.map(\.rawValue).joined(separator: ", "))")
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    public func setEnabled(_ enabled: Bool, endpointID: String, actor: String) async throws {
        do {
            try await store.setEndpointEnabled(id: endpointID, enabled: enabled, reason: enabled ? nil : "disabled by an operator", now: now())
        } catch StorageError.notFound {
            throw Self.noSuchEndpoint(endpointID)
        }
        try await audit(actor, enabled ? "webhooks.enable" : "webhooks.disable", "webhook \(endpointID)")
    }

    public func delete(endpointID: String, actor: String) async throws {
        do {
            try await store.deleteEndpoint(id: endpointID)
        } catch StorageError.notFound {
            throw Self.noSuchEndpoint(endpointID)
        }
        try await audit(actor, "webhooks.delete", "webhook \(endpointID)")
    }

    /// A new secret, returned this once; the old one keeps signing (beside it) for `overlap` seconds.
    public func rotateSecret(endpointID: String, overlap: Int, actor: String) async throws -> String {
        guard WebhookAdministrationJSON.overlapRange.contains(overlap) else {
            throw AdminFailure.invalid("overlap must be between 0 and \(WebhookAdministrationJSON.overlapRange.upperBound) seconds")
        }
        let secret = WebhookSignature.makeSecret(using: crypto)
        do {
            try await store.rotateSecret(
                endpointID: endpointID, secret: try sealer.seal(secret.key, context: endpointID), previousUntil: now() + TimeInterval(overlap),
                now: now())
        } catch StorageError.notFound {
            throw Self.noSuchEndpoint(endpointID)
        }
        try await audit(actor, "webhooks.rotate-secret", "webhook \(endpointID)", details: "overlap \(overlap) s")
        return secret.text
    }

    public func deliveries(endpointID: String, status: DeliveryStatus?, userID: String?, limit: Int) async throws -> [WebhookDelivery] {
        guard (1...1000).contains(limit) else { throw AdminFailure.invalid("limit must be between 1 and 1000") }
        _ = try await endpoint(endpointID)
        return try await store.deliveries(endpointID: endpointID, status: status, userID: userID, limit: limit)
    }

    public func retry(_ selection: DeliveryRetrySelection, actor: String) async throws -> Int {
        let count: Int
        do {
            count = try await store.retryDeliveries(selection, now: now())
        } catch StorageError.notFound {
            if case .delivery(let id) = selection { throw AdminFailure.notFound("no failed delivery \(id)") }
            throw AdminFailure.notFound("no failed delivery")
        }
        let target: String = switch selection {
        case .delivery(let id): "delivery \(id)"
        case .all(let endpointID): endpointID.map { "failed deliveries of webhook \($0)" } ?? "failed deliveries"
        }
        try await audit(actor, "webhooks.retry", target, details: "\(count) re-queued")
        return count
    }

    public func replay(endpointID: String, after: Int64, userID: String?, actor: String) async throws -> Int {
        guard after >= 0 else { throw AdminFailure.invalid("after must be a position (0 or more)") }
        let count: Int
        do {
            count = try await store.replay(endpointID: endpointID, after: after, userID: userID, now: now())
        } catch StorageError.notFound {
            throw Self.noSuchEndpoint(endpointID)
        }
        try await audit(actor, "webhooks.replay", "webhook \(endpointID)", details: "after \(after)\(userID.map { ", user \($0)" } ?? ""): \(count) queued")
        return count
    }

    /// Queues a `webhook.test` event for the endpoint, leased to this call in the same
    /// transaction so no running sender takes it, and attempts it at once. Returns the delivery
    /// id and its result (nil when an earlier test delivery still waits in the endpoint's
    /// test lane; the senders send it after that one).
    public func test(endpointID: String, actor: String) async throws -> (deliveryID: Int64, result: DeliveryResult?) {
        let queued: (deliveryID: Int64, claim: DeliveryClaim?)
        do {
            queued = try await store.queueTest(endpointID: endpointID, leaseUntil: now() + deliverer.lease, now: now())
        } catch StorageError.notFound {
            throw Self.noSuchEndpoint(endpointID)
        }
        try await audit(actor, "webhooks.test", "webhook \(endpointID)")
        guard let claim = queued.claim else { return (queued.deliveryID, nil) }
        return (queued.deliveryID, await deliverer.attempt(claim))
    }

    private func audit(_ actor: String, _ action: String, _ target: String, details: String? = nil) async throws {
        try await store.recordAdminAction(actor: actor, action: action, target: target, details: details, now: now())
    }

    static func noSuchEndpoint(_ id: String) -> AdminFailure {
        .notFound("no webhook endpoint \(id)")
    }
}
