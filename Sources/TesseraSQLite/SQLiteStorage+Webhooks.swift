import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: WebhookStore {
    static let endpointColumns = "id, url, description, event_types, enabled, disabled_reason, created_at, failing_since"

    static func endpoint(_ row: Row) -> WebhookEndpoint {
        let types = (row[3] as String?).map { json in
            ((try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []).compactMap(EventType.init(rawValue:))
        }
        return WebhookEndpoint(
            id: row[0], url: row[1], description: row[2], eventTypes: types, enabled: row[4], disabledReason: row[5],
            createdAt: Date(timeIntervalSince1970: row[6]), failingSince: (row[7] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    public func createEndpoint(_ endpoint: WebhookEndpoint, secret: [UInt8], now: Date) async throws {
        let types = try endpoint.eventTypes.map { String(decoding: try JSONEncoder().encode($0.map(\.rawValue)), as: UTF8.self) }
        do {
            try await write { db in
                try db.execute(
                    sql: """
                        INSERT INTO webhook_endpoints (id, url, description, event_types, secret, enabled, created_at)
                        VALUES (?, ?, ?, ?, ?, 1, ?)
                        """,
                    arguments: [endpoint.id, endpoint.url, endpoint.description, types, Data(secret), now.stored])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StorageError.alreadyExists
        }
    }

    public func endpoints() async throws -> [WebhookEndpoint] {
        try readOnCallingThread { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.endpointColumns) FROM webhook_endpoints ORDER BY created_at, id").map(Self.endpoint)
        }
    }

    public func endpoint(id: String) async throws -> WebhookEndpoint? {
        try readOnCallingThread { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE id = ?", arguments: [id]).map(Self.endpoint)
        }
    }

    public func setEndpointEnabled(id: String, enabled: Bool, reason: String?, now: Date) async throws {
        try await write { db in
            if enabled {
                try db.execute(
                    sql: "UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL, failing_since = NULL WHERE id = ?", arguments: [id])
            } else {
                try db.execute(sql: "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?", arguments: [reason, id])
            }
            guard db.changesCount == 1 else { throw StorageError.notFound }
        }
    }

    public func deleteEndpoint(id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM webhook_endpoints WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else { throw StorageError.notFound }
        }
    }

    public func rotateSecret(endpointID: String, secret: [UInt8], previousUntil: Date, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = ?, secret = ? WHERE id = ?
                    """,
                arguments: [previousUntil.stored, Data(secret), endpointID])
            guard db.changesCount == 1 else { throw StorageError.notFound }
        }
    }

    public func deliveries(endpointID: String, status: DeliveryStatus?, userID: String?, limit: Int) async throws -> [WebhookDelivery] {
        try readOnCallingThread { db in
            var conditions = ["d.endpoint_id = ?"]
            var arguments: StatementArguments = [endpointID]
            if let status {
                conditions.append("d.status = ?")
                arguments += [status.rawValue]
            }
            if let userID {
                conditions.append("d.lane = ?")
                arguments += [userID]
            }
            arguments += [limit]
            return try Row.fetchAll(
                db, sql: """
                    SELECT d.id, d.endpoint_id, e.id, e.type, d.lane, d.status, d.attempts, d.last_status, d.last_error, d.next_attempt_at
                    FROM webhook_deliveries d JOIN events e ON e.position = d.event_position
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY d.id DESC LIMIT ?
                    """,
                arguments: arguments
            ).map { row in
                let status = DeliveryStatus(rawValue: row[5]) ?? .pending
                return WebhookDelivery(
                    id: row[0], endpointID: row[1], eventID: row[2], eventType: EventType(rawValue: row[3]) ?? .webhookTest, userID: row[4],
                    status: status, attempts: row[6], lastStatus: row[7], lastError: row[8],
                    nextAttemptAt: status == .pending ? Date(timeIntervalSince1970: row[9]) : nil)
            }
        }
    }

    public func retryDeliveries(_ selection: DeliveryRetrySelection, now: Date) async throws -> Int {
        try await write { db in
            let positions: [Int64]
            let count: Int
            switch selection {
            case .delivery(let id):
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, finished_at = NULL WHERE id = ? AND status = 'failed'",
                    arguments: [now.stored, id])
                guard db.changesCount == 1 else { throw StorageError.notFound }
                count = 1
                positions = try Int64.fetchAll(db, sql: "SELECT event_position FROM webhook_deliveries WHERE id = ?", arguments: [id])
            case .all(let endpointID):
                let filter = endpointID == nil ? "" : " AND endpoint_id = ?"
                let arguments: StatementArguments = endpointID.map { [$0] } ?? []
                positions = try Int64.fetchAll(
                    db, sql: "SELECT DISTINCT event_position FROM webhook_deliveries WHERE status = 'failed'\(filter)", arguments: arguments)
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, finished_at = NULL WHERE status = 'failed'\(filter)",
                    arguments: [now.stored] + arguments)
                count = db.changesCount
            }
            for position in positions { try Self.openLanes(db, eventPosition: position) }
            return count
        }
    }

    public func replay(endpointID: String, after: Int64, userID: String?, now: Date) async throws -> Int {
        try await write { db in
            guard let endpoint = try Row.fetchOne(
                db, sql: "SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE id = ?", arguments: [endpointID]).map(Self.endpoint)
            else { throw StorageError.notFound }
            var conditions = ["position > ?", "type <> ?"]
            var arguments: StatementArguments = [after, EventType.webhookTest.rawValue]
            if let userID {
                conditions.append("subject = ?")
                arguments += [userID]
            }
            if let types = endpoint.eventTypes {
                conditions.append("type IN (\(types.map { _ in "?" }.joined(separator: ", ")))")
                arguments += StatementArguments(types.map(\.rawValue))
            }
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                    SELECT ?, position, subject, ?, ? FROM events WHERE \(conditions.joined(separator: " AND ")) ORDER BY position
                    """,
                arguments: [endpointID, now.stored, now.stored] + arguments)
            let count = db.changesCount
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO webhook_lanes (endpoint_id, lane, next_attempt_at)
                    SELECT DISTINCT endpoint_id, lane, ? FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending' AND created_at = ?
                    """,
                arguments: [now.stored, endpointID, now.stored])
            return count
        }
    }

    public func queueTest(endpointID: String, leaseUntil: Date, now: Date) async throws -> (deliveryID: Int64, claim: DeliveryClaim?) {
        try await write { [self] db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_endpoints WHERE id = ?", arguments: [endpointID]) == true else {
                throw StorageError.notFound
            }
            try record(db, .webhookTest(endpointID: endpointID), now: now)
            let position = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [endpointID, position, endpointID, now.stored, now.stored])
            let delivery = db.lastInsertedRowID
            try Self.openLanes(db, eventPosition: position)
            return (delivery, try Self.claimDelivery(db, id: delivery, leaseUntil: leaseUntil, now: now))
        }
    }

    public func claimDeliveries(limit: Int, leaseUntil: Date, now: Date) async throws -> [DeliveryClaim] {
        try await write { db in
            let lanes = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT l.endpoint_id, l.lane FROM webhook_lanes l JOIN webhook_endpoints p ON p.id = l.endpoint_id
                    WHERE l.next_attempt_at <= ?1 AND (l.leased_until IS NULL OR l.leased_until <= ?1) AND p.enabled = 1
                    ORDER BY l.next_attempt_at LIMIT ?2
                    """),
                arguments: [now.stored, limit])
            return try lanes.compactMap { lane in
                try Self.leaseHead(db, endpointID: lane[0], lane: lane[1], leaseUntil: leaseUntil, now: now)
            }
        }
    }

    /// Leases one delivery if it is its lane's head and the lane is not leased.
    private static func claimDelivery(_ db: Database, id: Int64, leaseUntil: Date, now: Date) throws -> DeliveryClaim? {
        guard let row = try Row.fetchOne(
            db, sql: """
                SELECT d.endpoint_id, d.lane FROM webhook_deliveries d JOIN webhook_lanes l ON l.endpoint_id = d.endpoint_id AND l.lane = d.lane
                WHERE d.id = ? AND d.status = 'pending' AND (l.leased_until IS NULL OR l.leased_until <= ?)
                """,
            arguments: [id, now.stored])
        else { return nil }
        guard let claim = try leaseHead(db, endpointID: row[0], lane: row[1], leaseUntil: leaseUntil, now: now), claim.deliveryID == id else {
            return nil
        }
        return claim
    }

    /// Leases the lane and returns its head with what sending it needs; a lane found empty is
    /// closed.
    private static func leaseHead(_ db: Database, endpointID: String, lane: String, leaseUntil: Date, now: Date) throws -> DeliveryClaim? {
        guard let head = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT d.id, d.attempts, p.url, p.secret, p.previous_secret, p.previous_secret_until,
                    e.position, e.id, e.type, e.subject, e.sequence, e.time, e.data
                FROM webhook_deliveries d JOIN webhook_endpoints p ON p.id = d.endpoint_id JOIN events e ON e.position = d.event_position
                WHERE d.endpoint_id = ? AND d.lane = ? AND d.status = 'pending' ORDER BY d.id LIMIT 1
                """),
            arguments: [endpointID, lane])
        else {
            try cached(db, sql: "DELETE FROM webhook_lanes WHERE endpoint_id = ? AND lane = ?", arguments: [endpointID, lane])
            return nil
        }
        try cached(
            db, sql: "UPDATE webhook_lanes SET leased_until = ? WHERE endpoint_id = ? AND lane = ?",
            arguments: [leaseUntil.stored, endpointID, lane])
        guard let event = event(head, from: 6) else { return nil }
        let previousUntil = (head[5] as Double?).map(Date.init(timeIntervalSince1970:))
        let usePrevious = previousUntil.map { $0 > now } ?? false
        return DeliveryClaim(
            deliveryID: head[0], endpointID: endpointID, url: head[2],
            secrets: SealedWebhookSecrets(
                current: [UInt8](head[3] as Data), previous: usePrevious ? (head[4] as Data?).map { [UInt8]($0) } : nil,
                previousUntil: usePrevious ? previousUntil : nil),
            attempts: head[1], event: event)
    }

    public func finishDelivery(
        _ claim: DeliveryClaim, result: DeliveryResult, disableAfter: TimeInterval, now: Date, leasingNextUntil: Date?
    ) async throws -> DeliveryClaim? {
        try await write { [self] db -> DeliveryClaim? in
            let key: StatementArguments = [claim.endpointID, claim.event.subject]
            switch result {
            case .delivered(let status):
                try Self.cached(
                    db, sql: """
                        UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL,
                            finished_at = ? WHERE id = ? AND status = 'pending'
                        """,
                    arguments: [status, now.stored, claim.deliveryID])
                try Self.cached(db, sql: "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL", arguments: [claim.endpointID])
                try Self.advanceLane(db, key: key, now: now)
            case .retry(let at, let status, let error):
                try Self.cached(
                    db, sql: """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ?
                        WHERE id = ? AND status = 'pending'
                        """,
                    arguments: [status, error, at.stored, claim.deliveryID])
                try Self.cached(
                    db, sql: "UPDATE webhook_lanes SET next_attempt_at = ?, leased_until = NULL WHERE endpoint_id = ? AND lane = ?",
                    arguments: [at.stored] + key)
                try failed(db, claim: claim, disableAfter: disableAfter, now: now)
                return nil
            case .dead(let status, let error):
                try Self.cached(
                    db, sql: """
                        UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = ?, last_error = ?,
                            finished_at = ? WHERE id = ? AND status = 'pending'
                        """,
                    arguments: [status, error, now.stored, claim.deliveryID])
                try Self.advanceLane(db, key: key, now: now)
                try failed(db, claim: claim, disableAfter: disableAfter, now: now)
            case .gone(let retryAt):
                try Self.cached(
                    db, sql: """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = 410, last_error = 'endpoint answered 410 Gone',
                            next_attempt_at = ? WHERE id = ? AND status = 'pending'
                        """,
                    arguments: [retryAt.stored, claim.deliveryID])
                try Self.cached(
                    db, sql: "UPDATE webhook_lanes SET next_attempt_at = ?, leased_until = NULL WHERE endpoint_id = ? AND lane = ?",
                    arguments: [retryAt.stored] + key)
                try disable(db, endpointID: claim.endpointID, reason: "the endpoint answered 410 Gone", now: now)
                return nil
            }
            guard let leaseUntil = leasingNextUntil,
                  try Bool.fetchOne(
                    db.cachedStatement(sql: """
                        SELECT 1 FROM webhook_lanes l JOIN webhook_endpoints p ON p.id = l.endpoint_id
                        WHERE l.endpoint_id = ? AND l.lane = ? AND l.next_attempt_at <= ? AND p.enabled = 1
                        """),
                    arguments: key + [now.stored]) == true
            else { return nil }
            return try Self.leaseHead(db, endpointID: claim.endpointID, lane: claim.event.subject, leaseUntil: leaseUntil, now: now)
        }
    }

    /// Starts or continues the endpoint's failure streak; one older than `disableAfter`
    /// disables it.
    private func failed(_ db: Database, claim: DeliveryClaim, disableAfter: TimeInterval, now: Date) throws {
        try Self.cached(
            db, sql: "UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL", arguments: [now.stored, claim.endpointID])
        guard let since = try Double.fetchOne(
            db.cachedStatement(sql: "SELECT failing_since FROM webhook_endpoints WHERE id = ? AND enabled = 1"), arguments: [claim.endpointID])
        else { return }
        if now.timeIntervalSince1970 - since >= disableAfter {
            try disable(db, endpointID: claim.endpointID, reason: "every delivery failed for \(Int(disableAfter)) seconds", now: now)
        }
    }

    /// Disables an enabled endpoint and records `webhook.endpoint.disabled`.
    private func disable(_ db: Database, endpointID: String, reason: String, now: Date) throws {
        guard let url = try String.fetchOne(
            db.cachedStatement(sql: "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ? AND enabled = 1 RETURNING url"),
            arguments: [reason, endpointID])
        else { return }
        try record(db, .endpointDisabled(endpointID: endpointID, url: url, reason: reason), now: now)
    }

    /// Releases the lane to its next pending delivery, or closes it when none is left.
    private static func advanceLane(_ db: Database, key: StatementArguments, now: Date) throws {
        if let next = try Double.fetchOne(
            db.cachedStatement(sql: """
                SELECT next_attempt_at FROM webhook_deliveries WHERE endpoint_id = ? AND lane = ? AND status = 'pending' ORDER BY id LIMIT 1
                """),
            arguments: key)
        {
            try cached(
                db, sql: "UPDATE webhook_lanes SET next_attempt_at = ?, leased_until = NULL WHERE endpoint_id = ? AND lane = ?",
                arguments: [max(next, now.stored)] + key)
        } else {
            try cached(db, sql: "DELETE FROM webhook_lanes WHERE endpoint_id = ? AND lane = ?", arguments: key)
        }
    }

    public func releaseClaim(_ claim: DeliveryClaim) async throws {
        try await write { db in
            try Self.cached(
                db, sql: "UPDATE webhook_lanes SET leased_until = NULL WHERE endpoint_id = ? AND lane = ?",
                arguments: [claim.endpointID, claim.event.subject])
        }
    }

    public func nextDeliveryDue() async throws -> Date? {
        try readOnCallingThread { db in
            try Double.fetchOne(
                db.cachedStatement(sql: """
                    SELECT min(max(l.next_attempt_at, coalesce(l.leased_until, 0))) FROM webhook_lanes l
                    JOIN webhook_endpoints p ON p.id = l.endpoint_id WHERE p.enabled = 1
                    """)
            ).map(Date.init(timeIntervalSince1970:))
        }
    }
}
