import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: WebhookStore {
    static let endpointColumns = "id, url, description, event_types, enabled, disabled_reason, created_at, failing_since"

    static func endpoint(_ row: Cells) throws -> WebhookEndpoint {
        let types = try row.optionalText(3).map { json in
            ((try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []).compactMap(EventType.init(rawValue:))
        }
        return WebhookEndpoint(
            id: try row.text(0), url: try row.text(1), description: try row.optionalText(2), eventTypes: types, enabled: try row.bool(4),
            disabledReason: try row.optionalText(5), createdAt: try row.date(6), failingSince: try row.optionalDate(7))
    }

    public func createEndpoint(_ endpoint: WebhookEndpoint, secret: [UInt8], now: Date) async throws {
        let types = try endpoint.eventTypes.map { String(decoding: try JSONEncoder().encode($0.map(\.rawValue)), as: UTF8.self) }
        try await write { sql in
            try await sql.execute("""
                INSERT INTO webhook_endpoints (id, url, description, event_types, secret, enabled, created_at)
                VALUES (\(endpoint.id), \(endpoint.url), \(endpoint.description), \(types), \(Data(secret)), true, \(now.stored))
                """)
        }
    }

    public func endpoints() async throws -> [WebhookEndpoint] {
        try await read { sql in
            try await sql.rows("SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints ORDER BY created_at, id").map(Self.endpoint)
        }
    }

    public func endpoint(id: String) async throws -> WebhookEndpoint? {
        try await read { sql in
            try await sql.row("SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints WHERE id = \(id)").map(Self.endpoint)
        }
    }

    public func setEndpointEnabled(id: String, enabled: Bool, reason: String?, now: Date) async throws {
        try await write { sql in
            let changed = enabled
                ? try await sql.execute("UPDATE webhook_endpoints SET enabled = true, disabled_reason = NULL, failing_since = NULL WHERE id = \(id)")
                : try await sql.execute("UPDATE webhook_endpoints SET enabled = false, disabled_reason = \(reason) WHERE id = \(id)")
            guard changed == 1 else { throw StorageError.notFound }
        }
    }

    public func deleteEndpoint(id: String) async throws {
        try await write { sql in
            guard try await sql.execute("DELETE FROM webhook_endpoints WHERE id = \(id)") == 1 else { throw StorageError.notFound }
        }
    }

    public func rotateSecret(endpointID: String, secret: [UInt8], previousUntil: Date, now: Date) async throws {
        try await write { sql in
            guard try await sql.execute("""
                UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = \(previousUntil.stored), secret = \(Data(secret))
                WHERE id = \(endpointID)
                """) == 1
            else { throw StorageError.notFound }
        }
    }

    public func deliveries(endpointID: String, status: DeliveryStatus?, userID: String?, limit: Int) async throws -> [WebhookDelivery] {
        try await read { sql in
            try await sql.rows("""
                SELECT d.id, d.endpoint_id, e.id, e.type, d.lane, d.status, d.attempts, d.last_status, d.last_error, d.next_attempt_at
                FROM webhook_deliveries d JOIN events e ON e.position = d.event_position
                WHERE d.endpoint_id = \(endpointID) AND (\(status?.rawValue)::text IS NULL OR d.status = \(status?.rawValue))
                    AND (\(userID)::text IS NULL OR d.lane = \(userID))
                ORDER BY d.id DESC LIMIT \(limit)
                """).map { row in
                let status = DeliveryStatus(rawValue: try row.text(5)) ?? .pending
                return WebhookDelivery(
                    id: try row.int64(0), endpointID: try row.text(1), eventID: try row.text(2),
                    eventType: EventType(rawValue: try row.text(3)) ?? .webhookTest, userID: try row.text(4), status: status,
                    attempts: try row.int(6), lastStatus: try row.optionalInt(7), lastError: try row.optionalText(8),
                    nextAttemptAt: status == .pending ? try row.date(9) : nil)
            }
        }
    }

    public func retryDeliveries(_ selection: DeliveryRetrySelection, now: Date) async throws -> Int {
        try await write { sql in
            let positions: [Int64]
            switch selection {
            case .delivery(let id):
                positions = try await sql.rows("""
                    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(now.stored), finished_at = NULL
                    WHERE id = \(id) AND status = 'failed' RETURNING event_position
                    """).map { try $0.int64(0) }
                guard positions.count == 1 else { throw StorageError.notFound }
            case .all(let endpointID):
                positions = try await sql.rows("""
                    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(now.stored), finished_at = NULL
                    WHERE status = 'failed' AND (\(endpointID)::text IS NULL OR endpoint_id = \(endpointID)) RETURNING event_position
                    """).map { try $0.int64(0) }
            }
            for position in Set(positions).sorted() { try await Self.openLanes(sql, eventPosition: position) }
            return positions.count
        }
    }

    public func replay(endpointID: String, after: Int64, userID: String?, now: Date) async throws -> Int {
        try await write { sql in
            guard let endpoint = try await sql.row("SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints WHERE id = \(endpointID)")
                .map(Self.endpoint)
            else { throw StorageError.notFound }
            let types = endpoint.eventTypes?.map(\.rawValue)
            let count = try await sql.execute("""
                INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                SELECT \(endpointID), position, subject, \(now.stored), \(now.stored) FROM events
                WHERE position > \(after) AND type <> \(EventType.webhookTest.rawValue)
                    AND (\(userID)::text IS NULL OR subject = \(userID))
                    AND (\(types == nil) OR type = ANY (\(types ?? [])))
                ORDER BY position
                """)
            try await sql.execute("""
                INSERT INTO webhook_lanes (endpoint_id, lane, next_attempt_at)
                SELECT DISTINCT endpoint_id, lane, \(now.stored) FROM webhook_deliveries
                WHERE endpoint_id = \(endpointID) AND status = 'pending' AND created_at = \(now.stored)
                ON CONFLICT (endpoint_id, lane) DO NOTHING
                """)
            return count
        }
    }

    public func queueTest(endpointID: String, leaseUntil: Date, now: Date) async throws -> (deliveryID: Int64, claim: DeliveryClaim?) {
        try await write { [self] sql in
            guard try await sql.row("SELECT 1 FROM webhook_endpoints WHERE id = \(endpointID)") != nil else { throw StorageError.notFound }
            let position = try await record(sql, .webhookTest(endpointID: endpointID), now: now)
            guard let delivery = try await sql.row("""
                INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                VALUES (\(endpointID), \(position), \(endpointID), \(now.stored), \(now.stored)) RETURNING id
                """)?.int64(0)
            else { throw StorageError.notFound }
            try await Self.openLanes(sql, eventPosition: position)
            return (delivery, try await Self.claimDelivery(sql, id: delivery, leaseUntil: leaseUntil, now: now))
        }
    }

    /// Claims due lanes with `FOR UPDATE SKIP LOCKED`: senders on several instances take
    /// different lanes and never wait for each other.
    public func claimDeliveries(limit: Int, leaseUntil: Date, now: Date) async throws -> [DeliveryClaim] {
        try await write { sql in
            let lanes = try await sql.rows("""
                SELECT l.endpoint_id, l.lane FROM webhook_lanes l JOIN webhook_endpoints p ON p.id = l.endpoint_id
                WHERE l.next_attempt_at <= \(now.stored) AND (l.leased_until IS NULL OR l.leased_until <= \(now.stored)) AND p.enabled
                ORDER BY l.next_attempt_at LIMIT \(limit) FOR UPDATE OF l SKIP LOCKED
                """)
            var claims: [DeliveryClaim] = []
            for lane in lanes {
                if let claim = try await Self.leaseHead(sql, endpointID: try lane.text(0), lane: try lane.text(1), leaseUntil: leaseUntil, now: now) {
                    claims.append(claim)
                }
            }
            return claims
        }
    }

    /// Leases one delivery if it is its lane's head and the lane is not leased (nor locked by a sender).
    private static func claimDelivery(_ sql: SQL, id: Int64, leaseUntil: Date, now: Date) async throws -> DeliveryClaim? {
        guard let row = try await sql.row("""
            SELECT d.endpoint_id, d.lane FROM webhook_deliveries d JOIN webhook_lanes l ON l.endpoint_id = d.endpoint_id AND l.lane = d.lane
            WHERE d.id = \(id) AND d.status = 'pending' AND (l.leased_until IS NULL OR l.leased_until <= \(now.stored))
            FOR UPDATE OF l SKIP LOCKED
            """)
        else { return nil }
        guard let claim = try await leaseHead(sql, endpointID: try row.text(0), lane: try row.text(1), leaseUntil: leaseUntil, now: now),
              claim.deliveryID == id
        else { return nil }
        return claim
    }

    /// Leases the lane and returns its head with what sending it needs; a lane found empty is
    /// closed. The caller holds the lane's row lock.
    private static func leaseHead(_ sql: SQL, endpointID: String, lane: String, leaseUntil: Date, now: Date) async throws -> DeliveryClaim? {
        guard let head = try await sql.row("""
            SELECT d.id, d.attempts, p.url, p.secret, p.previous_secret, p.previous_secret_until,
                e.position, e.id, e.type, e.subject, e.sequence, e.time, e.data
            FROM webhook_deliveries d JOIN webhook_endpoints p ON p.id = d.endpoint_id JOIN events e ON e.position = d.event_position
            WHERE d.endpoint_id = \(endpointID) AND d.lane = \(lane) AND d.status = 'pending' ORDER BY d.id LIMIT 1
            """)
        else {
            try await sql.execute("DELETE FROM webhook_lanes WHERE endpoint_id = \(endpointID) AND lane = \(lane)")
            return nil
        }
        try await sql.execute("UPDATE webhook_lanes SET leased_until = \(leaseUntil.stored) WHERE endpoint_id = \(endpointID) AND lane = \(lane)")
        guard let event = try event(head, from: 6) else { return nil }
        let previousUntil = try head.optionalDate(5)
        let usePrevious = previousUntil.map { $0 > now } ?? false
        return DeliveryClaim(
            deliveryID: try head.int64(0), endpointID: endpointID, url: try head.text(2),
            secrets: SealedWebhookSecrets(
                current: try head.bytes(3), previous: usePrevious ? try head.optionalBytes(4) : nil, previousUntil: usePrevious ? previousUntil : nil),
            attempts: try head.int(1), event: event)
    }

    public func finishDelivery(
        _ claim: DeliveryClaim, result: DeliveryResult, disableAfter: TimeInterval, now: Date, leasingNextUntil: Date?
    ) async throws -> DeliveryClaim? {
        try await write { [self] sql -> DeliveryClaim? in
            let endpointID = claim.endpointID, lane = claim.event.subject
            switch result {
            case .delivered(let status):
                try await sql.execute("""
                    UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = \(status), last_error = NULL,
                        finished_at = \(now.stored) WHERE id = \(claim.deliveryID) AND status = 'pending'
                    """)
                try await sql.execute("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = \(endpointID) AND failing_since IS NOT NULL")
                try await Self.advanceLane(sql, endpointID: endpointID, lane: lane, now: now)
            case .retry(let at, let status, let error):
                try await sql.execute("""
                    UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = \(status), last_error = \(error), next_attempt_at = \(at.stored)
                    WHERE id = \(claim.deliveryID) AND status = 'pending'
                    """)
                try await sql.execute("""
                    UPDATE webhook_lanes SET next_attempt_at = \(at.stored), leased_until = NULL WHERE endpoint_id = \(endpointID) AND lane = \(lane)
                    """)
                try await failed(sql, claim: claim, disableAfter: disableAfter, now: now)
                return nil
            case .dead(let status, let error):
                try await sql.execute("""
                    UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = \(status), last_error = \(error),
                        finished_at = \(now.stored) WHERE id = \(claim.deliveryID) AND status = 'pending'
                    """)
                try await Self.advanceLane(sql, endpointID: endpointID, lane: lane, now: now)
                try await failed(sql, claim: claim, disableAfter: disableAfter, now: now)
            case .gone(let retryAt):
                try await sql.execute("""
                    UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = 410, last_error = 'endpoint answered 410 Gone',
                        next_attempt_at = \(retryAt.stored) WHERE id = \(claim.deliveryID) AND status = 'pending'
                    """)
                try await sql.execute("""
                    UPDATE webhook_lanes SET next_attempt_at = \(retryAt.stored), leased_until = NULL WHERE endpoint_id = \(endpointID) AND lane = \(lane)
                    """)
                try await disable(sql, endpointID: endpointID, reason: "the endpoint answered 410 Gone", now: now)
                return nil
            }
            guard let leaseUntil = leasingNextUntil,
                  try await sql.row("""
                    SELECT 1 FROM webhook_lanes l JOIN webhook_endpoints p ON p.id = l.endpoint_id
                    WHERE l.endpoint_id = \(endpointID) AND l.lane = \(lane) AND l.next_attempt_at <= \(now.stored) AND p.enabled
                    FOR UPDATE OF l
                    """) != nil
            else { return nil }
            return try await Self.leaseHead(sql, endpointID: endpointID, lane: lane, leaseUntil: leaseUntil, now: now)
        }
    }

    /// Starts or continues the endpoint's failure streak; one older than `disableAfter`
    /// disables it.
    private func failed(_ sql: SQL, claim: DeliveryClaim, disableAfter: TimeInterval, now: Date) async throws {
        guard let since = try await sql.row("""
            UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, \(now.stored)) WHERE id = \(claim.endpointID) AND enabled
            RETURNING failing_since
            """)?.double(0)
        else { return }
        if now.timeIntervalSince1970 - since >= disableAfter {
            try await disable(sql, endpointID: claim.endpointID, reason: "every delivery failed for \(Int(disableAfter)) seconds", now: now)
        }
    }

    /// Disables an enabled endpoint and records `webhook.endpoint.disabled`.
    private func disable(_ sql: SQL, endpointID: String, reason: String, now: Date) async throws {
        guard let url = try await sql.row("""
            UPDATE webhook_endpoints SET enabled = false, disabled_reason = \(reason) WHERE id = \(endpointID) AND enabled RETURNING url
            """)?.text(0)
        else { return }
        try await record(sql, .endpointDisabled(endpointID: endpointID, url: url, reason: reason), now: now)
    }

    /// Releases the lane to its next pending delivery, or closes it when none is left.
    private static func advanceLane(_ sql: SQL, endpointID: String, lane: String, now: Date) async throws {
        if let next = try await sql.row("""
            SELECT next_attempt_at FROM webhook_deliveries WHERE endpoint_id = \(endpointID) AND lane = \(lane) AND status = 'pending'
            ORDER BY id LIMIT 1
            """)?.double(0) {
            try await sql.execute("""
                UPDATE webhook_lanes SET next_attempt_at = \(max(next, now.stored)), leased_until = NULL WHERE endpoint_id = \(endpointID) AND lane = \(lane)
                """)
        } else {
            try await sql.execute("DELETE FROM webhook_lanes WHERE endpoint_id = \(endpointID) AND lane = \(lane)")
        }
    }

    public func releaseClaim(_ claim: DeliveryClaim) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE webhook_lanes SET leased_until = NULL WHERE endpoint_id = \(claim.endpointID) AND lane = \(claim.event.subject)
                """)
        }
    }

    public func nextDeliveryDue() async throws -> Date? {
        try await read { sql in
            try await sql.row("""
                SELECT min(greatest(l.next_attempt_at, coalesce(l.leased_until, 0))) FROM webhook_lanes l
                JOIN webhook_endpoints p ON p.id = l.endpoint_id WHERE p.enabled
                """)?.optionalDate(0)
        }
    }
}
