import Foundation
import TesseraCore

/// Why an endpoint could not be registered or changed.
public enum WebhookAdminError: Error, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case unknownEventType(String)
    case invalidDescription
    case notFound(String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid webhook URL: \(reason)"
        case .unknownEventType(let type):
            "unknown event type \(type); known: \(EventType.allCases.filter { $0 != .webhookTest }.map(\.rawValue).joined(separator: ", "))"
        case .invalidDescription: "the description must be at most 200 characters, without control characters"
        case .notFound(let id): "no webhook endpoint \(id)"
        }
    }
}

/// The administration of webhook endpoints (contract §9.4), one implementation for every
/// adapter (the CLI now, an admin API later): registration with its checks, secret rotation
/// and the test event.
public struct WebhookAdmin: Sendable {
    let store: any WebhookStore
    let sealer: any SecretSealer
    let crypto: any CryptoPrimitives
    let policy: AddressPolicy
    let now: Now

    public init(store: any WebhookStore, sealer: any SecretSealer, crypto: any CryptoPrimitives, settings: Settings, now: @escaping Now) {
        self.store = store
        self.sealer = sealer
        self.crypto = crypto
        self.policy = AddressPolicy(allowPrivateNetworks: settings.webhookAllowPrivateNetworks)
        self.now = now
    }

    /// A new endpoint and its secret, which is shown this once.
    public struct Registration: Sendable {
        public let endpoint: WebhookEndpoint
        public let secret: String
    }

    /// Registers `url` for `eventTypes` (all when empty). The URL must pass the SSRF guard
    /// now (its host resolved); it is checked again at every connection.
    public func create(url: String, eventTypes: [String], description: String?) async throws -> Registration {
        let types = try Self.eventTypes(eventTypes)
        if let description, description.count > 200 || description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw WebhookAdminError.invalidDescription
        }
        do {
            _ = try await WebhookTarget(url).resolve(policy: policy)
        } catch let invalid as WebhookTarget.Invalid {
            throw WebhookAdminError.invalidURL(invalid.description)
        }
        let endpoint = WebhookEndpoint(
            id: "whe_" + RandomIdentifier.make(using: crypto), url: url, description: description, eventTypes: types, createdAt: now())
        let secret = WebhookSignature.makeSecret(using: crypto)
        try await store.createEndpoint(endpoint, secret: try sealer.seal(secret.key, context: endpoint.id), now: now())
        return Registration(endpoint: endpoint, secret: secret.text)
    }

    /// The checked types; nil (every type) for none.
    static func eventTypes(_ names: [String]) throws(WebhookAdminError) -> [EventType]? {
        guard !names.isEmpty else { return nil }
        var types: [EventType] = []
        for name in names {
            guard let type = EventType(rawValue: name), type != .webhookTest else { throw .unknownEventType(name) }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// A new secret, returned this once; the old one keeps signing (beside it) for `overlap`.
    public func rotateSecret(endpointID: String, overlap: TimeInterval) async throws -> String {
        let secret = WebhookSignature.makeSecret(using: crypto)
        do {
            try await store.rotateSecret(
                endpointID: endpointID, secret: try sealer.seal(secret.key, context: endpointID), previousUntil: now() + overlap, now: now())
        } catch StorageError.notFound {
            throw WebhookAdminError.notFound(endpointID)
        }
        return secret.text
    }

    /// Queues a `webhook.test` event for the endpoint and attempts it at once with
    /// `deliverer`. Returns the delivery id and its result (nil if a running server took the
    /// delivery first).
    public func test(endpointID: String, deliverer: WebhookDeliverer) async throws -> (Int64, DeliveryResult?) {
        let deliveryID: Int64
        do {
            deliveryID = try await store.queueTest(endpointID: endpointID, now: now())
        } catch StorageError.notFound {
            throw WebhookAdminError.notFound(endpointID)
        }
        guard let claim = try await store.claimDelivery(id: deliveryID, leaseUntil: now() + deliverer.lease, now: now()) else {
            return (deliveryID, nil)
        }
        return (deliveryID, await deliverer.attempt(claim))
    }
}
