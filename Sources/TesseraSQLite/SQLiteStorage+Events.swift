import Foundation
import GRDB
import Synchronization
import TesseraCore

extension SQLiteStorage: EventLog {
    /// Appends `event` inside the caller's transaction: the next number of its subject's
    /// sequence, the row (its rowid is the position) and one delivery per enabled endpoint
    /// that wants its type, with the lane that orders them. Every store method that changes an
    /// account calls this in its own write, so the event commits or rolls back with the change.
    func record(_ db: Database, _ event: NewEvent, now: Date) throws {
        guard let sequence = try Int64.fetchOne(
            db.cachedStatement(sql: """
                INSERT INTO event_streams (subject, last_sequence) VALUES (?, 1)
                ON CONFLICT (subject) DO UPDATE SET last_sequence = last_sequence + 1
                RETURNING last_sequence
                """),
            arguments: [event.subject])
        else { throw StorageError.notFound }
        try Self.cached(
            db, sql: "INSERT INTO events (id, type, subject, sequence, time, data) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [StoredEvent.makeID(), event.type.rawValue, event.subject, sequence, now.stored,
                        String(decoding: event.data, as: UTF8.self)])
        let position = db.lastInsertedRowID
        eventsAppended.value.store(true, ordering: .relaxed)
        guard event.type != .webhookTest else { return }
        try Self.cached(
            db, sql: """
                INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                SELECT id, ?, ?, ?, ? FROM webhook_endpoints
                WHERE enabled = 1 AND (event_types IS NULL OR EXISTS (SELECT 1 FROM json_each(event_types) WHERE value = ?))
                """,
            arguments: [position, event.subject, now.stored, now.stored, event.type.rawValue])
        if db.changesCount > 0 { try Self.openLanes(db, eventPosition: position) }
    }

    /// Opens a lane for each delivery of the event whose lane has nothing pending; a lane
    /// already open keeps its head and its due time.
    static func openLanes(_ db: Database, eventPosition: Int64) throws {
        try cached(
            db, sql: """
                INSERT OR IGNORE INTO webhook_lanes (endpoint_id, lane, next_attempt_at)
                SELECT endpoint_id, lane, next_attempt_at FROM webhook_deliveries WHERE event_position = ? AND status = 'pending'
                """,
            arguments: [eventPosition])
    }

    /// Records the event `make` builds from the user as stored now (inside the transaction).
    func recordAboutUser(_ db: Database, id: String, now: Date, _ make: (User) -> NewEvent) throws {
        guard let user = try Self.fetchUser(db, id: id) else { return }
        try record(db, make(user), now: now)
    }

    /// Erases the personal members of every event of `userID` (contract §9.1).
    static func redactEvents(_ db: Database, userID: String) throws {
        let paths = NewEvent.personalKeys.map { "'$.\($0)'" }.joined(separator: ", ")
        try cached(db, sql: "UPDATE events SET data = json_remove(data, \(paths)) WHERE subject = ?", arguments: [userID])
    }

    public func appendEvent(_ event: NewEvent, now: Date) async throws {
        try await write { [self] db in try record(db, event, now: now) }
    }

    public func events(_ query: EventQuery) async throws -> EventPage {
        try readOnCallingThread { db in
            let pruned = try Int64.fetchOne(db.cachedStatement(sql: "SELECT pruned_through FROM event_log_state WHERE id = 1")) ?? 0
            if let after = query.after, after < pruned { return .cursorExpired }
            var conditions = ["position > ?"]
            let after = query.after ?? pruned
            var arguments: StatementArguments = [after]
            if let prefix = query.typePrefix {
                conditions.append("substr(type, 1, ?) = ?")
                arguments += [prefix.utf8.count, prefix]
            }
            if let subject = query.subject {
                conditions.append("subject = ?")
                arguments += [subject]
            }
            arguments += [query.limit]
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT position, id, type, subject, sequence, time, data FROM events
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY position LIMIT ?
                    """),
                arguments: arguments)
            return .events(rows.compactMap { Self.event($0) }, after: after)
        }
    }

    /// An event from `position, id, type, subject, sequence, time, data` from column `first` on.
    static func event(_ row: Row, from first: Int = 0) -> StoredEvent? {
        guard let type = EventType(rawValue: row[first + 2]) else { return nil }
        return StoredEvent(
            position: row[first], id: row[first + 1], type: type, subject: row[first + 3], sequence: row[first + 4],
            time: Date(timeIntervalSince1970: row[first + 5]), data: Array((row[first + 6] as String).utf8))
    }

    /// Removes events older than `cutoff`, except those a pending delivery still needs, and
    /// moves the expiry horizon of cursors. Returns how many went.
    static func pruneEvents(_ db: Database, olderThan cutoff: Date, batch: Int) throws -> Int {
        guard let newest = try Int64.fetchOne(
            db, sql: """
                SELECT max(position) FROM (
                    SELECT position FROM events e WHERE time < ?
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_position = e.position AND d.status = 'pending')
                    ORDER BY position LIMIT ?)
                """,
            arguments: [cutoff.stored, batch])
        else { return 0 }
        try db.execute(
            sql: """
                DELETE FROM events WHERE position <= ? AND time < ?
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_position = events.position AND d.status = 'pending')
                """,
            arguments: [newest, cutoff.stored])
        let removed = db.changesCount
        try db.execute(sql: "UPDATE event_log_state SET pruned_through = max(pruned_through, ?) WHERE id = 1", arguments: [newest])
        return removed
    }
}
