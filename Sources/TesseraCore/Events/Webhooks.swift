import Foundation

/// A registered webhook endpoint (contract §9.3), without its secret.
public struct WebhookEndpoint: Sendable, Equatable {
    /// `whe_…`.
    public var id: String
    public var url: String
    public var description: String?
    /// The types delivered to it; nil for every type.
    public var eventTypes: [EventType]?
    public var enabled: Bool
    public var disabledReason: String?
    public var createdAt: Date
    /// Since when every delivery to it failed (nil after a success).
    public var failingSince: Date?

    public init(
        id: String, url: String, description: String?, eventTypes: [EventType]?, enabled: Bool = true,
        disabledReason: String? = nil, createdAt: Date, failingSince: Date? = nil
    ) {
        self.id = id
        self.url = url
        self.description = description
        self.eventTypes = eventTypes
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.createdAt = createdAt
        self.failingSince = failingSince
    }

    /// Whether an event of `type` is delivered to it (`webhook.test` only by its own request).
    public func wants(_ type: EventType) -> Bool {
        type != .webhookTest && (eventTypes?.contains(type) ?? true)
    }
}

/// An endpoint's signing secrets as stored: sealed (``SecretSealer``), never in the clear.
public struct SealedWebhookSecrets: Sendable, Equatable {
    public var current: [UInt8]
    /// The secret before the last rotation, which also signs until `previousUntil`.
    public var previous: [UInt8]?
    public var previousUntil: Date?

    public init(current: [UInt8], previous: [UInt8]? = nil, previousUntil: Date? = nil) {
        self.current = current
        self.previous = previous
        self.previousUntil = previousUntil
    }
}

/// Where a delivery stands.
public enum DeliveryStatus: String, Sendable, CaseIterable, Codable {
    case pending, delivered, failed
}

/// One event's delivery to one endpoint.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: Int64
    public var endpointID: String
    public var eventID: String
    public var eventType: EventType
    /// The event's subject: the user whose deliveries are kept in order.
    public var userID: String
    public var status: DeliveryStatus
    public var attempts: Int
    /// The HTTP status of the last attempt, if one was received.
    public var lastStatus: Int?
    public var lastError: String?
    /// When the next attempt is due (pending only).
    public var nextAttemptAt: Date?

    public init(
        id: Int64, endpointID: String, eventID: String, eventType: EventType, userID: String, status: DeliveryStatus,
        attempts: Int, lastStatus: Int?, lastError: String?, nextAttemptAt: Date?
    ) {
        self.id = id
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.userID = userID
        self.status = status
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
    }
}

/// A delivery leased to one sender: the head of its lane (endpoint, user), with everything
/// needed to send it.
public struct DeliveryClaim: Sendable, Equatable {
    public var deliveryID: Int64
    public var endpointID: String
    public var url: String
    public var secrets: SealedWebhookSecrets
    /// Attempts made before this one.
    public var attempts: Int
    public var event: StoredEvent

    public init(deliveryID: Int64, endpointID: String, url: String, secrets: SealedWebhookSecrets, attempts: Int, event: StoredEvent) {
        self.deliveryID = deliveryID
        self.endpointID = endpointID
        self.url = url
        self.secrets = secrets
        self.attempts = attempts
        self.event = event
    }
}

/// How an attempt ended, as the dispatcher decided from the answer and the schedule.
public enum DeliveryResult: Sendable, Equatable {
    /// A 2xx: done.
    case delivered(status: Int)
    /// Failed; try again at `at`.
    case retry(at: Date, status: Int?, error: String)
    /// Failed and the schedule is spent: dead-lettered.
    case dead(status: Int?, error: String)
    /// The endpoint answered 410 Gone: it is disabled at once; the delivery waits (retried at
    /// `retryAt` should the endpoint be enabled again).
    case gone(retryAt: Date)
}

/// Which dead letters to queue again.
public enum DeliveryRetrySelection: Sendable, Equatable {
    case delivery(Int64)
    /// Every failed delivery, of one endpoint or of all.
    case all(endpointID: String?)
}

/// Webhook endpoints and their deliveries (contract §9.3, §9.4). Deliveries are created in
/// the transaction that appends their event, one per enabled endpoint that wants its type,
/// and form one FIFO lane per (endpoint, subject): only a lane's oldest pending delivery is
/// ever claimed, so a user's event n+1 is not sent before event n is delivered or dead.
public protocol WebhookStore: Sendable {
    /// Throws ``StorageError/alreadyExists`` for a taken id.
    func createEndpoint(_ endpoint: WebhookEndpoint, secret: [UInt8], now: Date) async throws
    func endpoints() async throws -> [WebhookEndpoint]
    func endpoint(id: String) async throws -> WebhookEndpoint?
    /// Enables (clearing the reason and the failure streak) or disables an endpoint. Throws
    /// ``StorageError/notFound``.
    func setEndpointEnabled(id: String, enabled: Bool, reason: String?, now: Date) async throws
    /// Deletes the endpoint and its deliveries. Throws ``StorageError/notFound``.
    func deleteEndpoint(id: String) async throws
    /// Makes `secret` current; the old one stays valid for signing until `previousUntil`.
    /// Throws ``StorageError/notFound``.
    func rotateSecret(endpointID: String, secret: [UInt8], previousUntil: Date, now: Date) async throws
    /// Deliveries of an endpoint, newest first.
    func deliveries(endpointID: String, status: DeliveryStatus?, userID: String?, limit: Int) async throws -> [WebhookDelivery]
    /// Queues dead letters again, due now. Returns how many. An unknown or not failed delivery
    /// id throws ``StorageError/notFound``.
    func retryDeliveries(_ selection: DeliveryRetrySelection, now: Date) async throws -> Int
    /// Queues a new delivery to the endpoint of every retained event after `after` (of
    /// `userID`'s only, when given) that the endpoint wants, in log order. Returns how many.
    /// Throws ``StorageError/notFound`` for an unknown endpoint.
    func replay(endpointID: String, after: Int64, userID: String?, now: Date) async throws -> Int
    /// Appends a `webhook.test` event and one delivery of it to this endpoint only and, in the
    /// same transaction, leases that delivery until `leaseUntil` when it heads its lane (no
    /// sender can take it first). Returns the delivery's id and the claim (nil when an earlier
    /// test delivery still waits in the lane). Throws ``StorageError/notFound``.
    func queueTest(endpointID: String, leaseUntil: Date, now: Date) async throws -> (deliveryID: Int64, claim: DeliveryClaim?)
    /// Leases up to `limit` due lane heads of enabled endpoints until `leaseUntil`.
    func claimDeliveries(limit: Int, leaseUntil: Date, now: Date) async throws -> [DeliveryClaim]
    /// Records an attempt's end and moves its lane on. A failure starts (or continues) the
    /// endpoint's failure streak; a streak older than `disableAfter`, or ``DeliveryResult/gone(retryAt:)``,
    /// disables the endpoint and appends a `webhook.endpoint.disabled` event.
    ///
    /// With `leasingNextUntil`, when the lane moved on to a head that is due and the endpoint
    /// is still enabled, that head is leased in the same transaction and returned, so that a
    /// sender goes on with the lane without another claim.
    func finishDelivery(
        _ claim: DeliveryClaim, result: DeliveryResult, disableAfter: TimeInterval, now: Date, leasingNextUntil: Date?
    ) async throws -> DeliveryClaim?
    /// Gives a claimed lane back unattempted (the sender is stopping), due at once.
    func releaseClaim(_ claim: DeliveryClaim) async throws
    /// When the earliest pending delivery of an enabled endpoint is due, if any.
    func nextDeliveryDue() async throws -> Date?
}

extension WebhookStore {
    /// Records an attempt's end without taking the lane's next delivery.
    public func finishDelivery(_ claim: DeliveryClaim, result: DeliveryResult, disableAfter: TimeInterval, now: Date) async throws {
        _ = try await finishDelivery(claim, result: result, disableAfter: disableAfter, now: now, leasingNextUntil: nil)
    }
}

/// Seals secrets a protocol needs in the clear (webhook signing secrets) for storage, and
/// opens them again: authenticated encryption bound to `context` (the owning row's id).
public protocol SecretSealer: Sendable {
    func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8]
    /// Throws when the box was altered, sealed under another key or for another context.
    func open(_ sealed: [UInt8], context: String) throws -> [UInt8]
}
