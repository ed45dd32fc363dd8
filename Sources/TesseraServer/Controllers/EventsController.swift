import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// `GET /v1/events` (contract §9.2): the event log from a cursor, for a client acting for
/// itself (a `client_credentials` token) whose scope holds `events:read`; with `wait`, the
/// request is held open until an event after the cursor exists.
struct EventsController {
    static let path = "/v1/events"
    static let scope = "events:read"
    /// The longest `wait`, in seconds.
    static let longestWait: Double = 25
    /// How often a waiting request looks again for events written by another process (the
    /// admin CLI); this process's own commits wake it at once.
    static let pollInterval: Double = 0.5

    let accessTokens: AccessTokenValidator
    let log: any EventLog
    let publicURL: String

    func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get(RouterPath(Self.path), use: list)
    }

    /// The parameters, checked.
    struct Query {
        var events = EventQuery()
        var wait: Double = 0

        init(_ request: Request) throws(APIError) {
            guard let parameters = try? FormBody.parse(request.uri.query ?? "") else {
                throw .invalidRequest("a query parameter is repeated or malformed")
            }
            if let after = parameters["after"] {
                guard let position = Int64(after), position >= 0 else { throw .invalidRequest("after must be a position (a whole number, 0 or more)") }
                events.after = position
            }
            if let limit = parameters["limit"] {
                guard let number = Int(limit), (1...500).contains(number) else { throw .invalidRequest("limit must be between 1 and 500") }
                events.limit = number
            }
            if let type = parameters["type"] {
                guard (1...100).contains(type.utf8.count), type.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "." || $0 == "_") }) else {
                    throw .invalidRequest("type must be an event type or its prefix, such as user.email.")
                }
                events.typePrefix = type
            }
            if let subject = parameters["subject"] {
                guard (1...200).contains(subject.utf8.count) else { throw .invalidRequest("subject must be a user id") }
                events.subject = subject
            }
            if let wait = parameters["wait"] {
                guard let seconds = Double(wait), seconds.isFinite, (0...EventsController.longestWait).contains(seconds) else {
                    throw .invalidRequest("wait must be between 0 and 25 seconds")
                }
                self.wait = seconds
            }
        }
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard let header = request.headers.fieldValue(.authorization) else { throw BearerError.missing }
        guard let token = AuthorizationHeader.credentials(header, scheme: "bearer") else { throw BearerError.invalidToken(reason: "not a bearer authorization") }
        let validated = try await accessTokens.validate(token, audience: nil)
        // Every user's events: only a client acting for itself may read them, never a user's token.
        guard validated.user == nil, Scope(parsing: validated.claims.scope)?.contains(Self.scope) == true else {
            throw BearerError.insufficientScope(required: Self.scope)
        }
        let query = try Query(request)
        // Real time, not the injected clock: a wait is about this request, not about the data.
        let deadline = ContinuousClock.now + .milliseconds(Int64(query.wait * 1000))
        var seen = log.eventsCommitted.generation
        var page = try await log.events(query.events)
        while case .events(let events, _) = page, events.isEmpty {
            let left = deadline - ContinuousClock.now
            let remaining = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            guard remaining > 0, !Task.isCancelled else { break }
            await log.eventsCommitted.wait(beyond: seen, seconds: min(remaining, Self.pollInterval))
            seen = log.eventsCommitted.generation
            page = try await log.events(query.events)
        }
        guard case .events(let events, let after) = page else {
            throw APIError(.gone, "cursor_expired", "events after this cursor are past event_retention; start again without after")
        }
        var body = JSONObjectWriter(capacity: 256 + events.count * 512)
        body.addJSON("data", JSONObjectWriter.arrayOfRaw(events.map { $0.envelope(publicURL: publicURL) }))
        body.add("next_cursor", String(events.last?.position ?? after))
        return JSONResponse.make(body: body.finish(), cacheControl: "no-store")
    }
}
