import Foundation

/// An event as the log keeps it (contract §9.1).
public struct StoredEvent: Sendable, Equatable {
    /// The event's place in the whole log, increasing in commit order: the cursor.
    public let position: Int64
    /// `evt_…`, unique; the `webhook-id` of every delivery of it.
    public let id: String
    public let type: EventType
    /// A user id, or a webhook endpoint id for the operational types.
    public let subject: String
    /// 1, 2, 3… per subject, without gaps.
    public let sequence: Int64
    public let time: Date
    /// One JSON object, UTF-8.
    public let data: [UInt8]

    public init(position: Int64, id: String, type: EventType, subject: String, sequence: Int64, time: Date, data: [UInt8]) {
        self.position = position
        self.id = id
        self.type = type
        self.subject = subject
        self.sequence = sequence
        self.time = time
        self.data = data
    }

    /// The CloudEvents 1.0 structured-mode JSON of the event, `source` under `publicURL`.
    public func envelope(publicURL: String) -> [UInt8] {
        var writer = JSONObjectWriter(capacity: 256 + data.count)
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        writer.add("specversion", "1.0")
        writer.add("id", id)
        writer.add("type", type.rawValue)
        writer.add("source", base + (type.isAboutUser ? "/users/" : "/webhooks/") + subject)
        writer.add("subject", subject)
        writer.add("time", UTCTime(time).rfc3339)
        writer.add("datacontenttype", "application/json")
        writer.add("sequence", UTCTime.pad(Int(sequence), 20))
        writer.add("position", String(position))
        writer.addJSON("data", data)
        return writer.finish()
    }

    /// A new event id: `evt_` and 128 random bits in base64url.
    public static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "evt_" + Base64URL.encode(bytes)
    }
}

/// What to read from the log.
public struct EventQuery: Sendable, Equatable {
    /// Exclusive; nil reads from the oldest retained event.
    public var after: Int64?
    public var limit: Int
    /// Types starting with this (`user.email.`).
    public var typePrefix: String?
    public var subject: String?

    public init(after: Int64? = nil, limit: Int = 100, typePrefix: String? = nil, subject: String? = nil) {
        self.after = after
        self.limit = limit
        self.typePrefix = typePrefix
        self.subject = subject
    }
}

/// The answer to an ``EventQuery``.
public enum EventPage: Sendable, Equatable {
    /// The events, and the cursor they were read after (the query's `after`, or for none the
    /// position before the oldest retained event).
    case events([StoredEvent], after: Int64)
    /// Events after the cursor were already removed by the retention: reading on from it would
    /// silently skip them.
    case cursorExpired
}

/// The event log (contract §9.1). Stores append events inside the transactions of the
/// changes they record (each store method's documentation names its events); this protocol
/// reads the log and appends the events no stored change carries.
public protocol EventLog: Sendable {
    /// Appends `event` in a transaction of its own (for changes not stored in the database,
    /// such as a lock-out).
    func appendEvent(_ event: NewEvent, now: Date) async throws
    /// Events in position order, as `query` selects.
    func events(_ query: EventQuery) async throws -> EventPage
    /// Signalled after every commit that appended an event (in this process).
    var eventsCommitted: ChangeNotifier { get }
}
