import Foundation
import PostgresNIO
import Synchronization
import TesseraCore

extension PostgresStorage: EventLog {
    /// Appends `event` inside the caller's transaction: the next number of its subject's
    /// sequence, the next position (from the counter row, held until the commit, so positions
    /// are taken in commit order — migration 0012), the row, and one delivery per enabled
    /// endpoint that wants its type with the lane that orders them (a lane already open keeps
    /// its head and due time). One statement, so one round trip. Returns the position.
    @discardableResult
    func record(_ sql: SQL, _ event: NewEvent, now: Date) async throws -> Int64 {
        let delivered = event.type != .webhookTest
        guard let position = try await sql.row("""
                WITH stream AS (
                    INSERT INTO event_streams (subject, last_sequence) VALUES (\(event.subject), 1)
                    ON CONFLICT (subject) DO UPDATE SET last_sequence = event_streams.last_sequence + 1
                    RETURNING last_sequence
                ), log AS (
                    UPDATE event_log_state SET last_position = last_position + 1 WHERE id = 1 RETURNING last_position
                ), appended AS (
                    INSERT INTO events (position, id, type, subject, sequence, time, data)
                    SELECT log.last_position, \(StoredEvent.makeID()), \(event.type.rawValue), \(event.subject), stream.last_sequence,
                           \(now.stored), \(String(decoding: event.data, as: UTF8.self))
                    FROM stream, log
                    RETURNING position
                ), queued AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_position, lane, next_attempt_at, created_at)
                    SELECT w.id, appended.position, \(event.subject), \(now.stored), \(now.stored) FROM webhook_endpoints w, appended
                    WHERE \(delivered) AND w.enabled AND (w.event_types IS NULL OR w.event_types::jsonb ? \(event.type.rawValue))
                    RETURNING endpoint_id, lane, next_attempt_at
                ), lanes AS (
                    INSERT INTO webhook_lanes (endpoint_id, lane, next_attempt_at) SELECT endpoint_id, lane, next_attempt_at FROM queued
                    ON CONFLICT (endpoint_id, lane) DO NOTHING
                )
                SELECT position FROM appended
                """)?.int64(0)
        else { throw StorageError.notFound }
        sql.eventsAppended?.value.store(true, ordering: .relaxed)
        return position
    }

    /// Opens a lane for each delivery of the event whose lane has nothing pending; a lane
    /// already open keeps its head and its due time.
    static func openLanes(_ sql: SQL, eventPosition: Int64) async throws {
        try await sql.execute("""
            INSERT INTO webhook_lanes (endpoint_id, lane, next_attempt_at)
            SELECT endpoint_id, lane, next_attempt_at FROM webhook_deliveries WHERE event_position = \(eventPosition) AND status = 'pending'
            ON CONFLICT (endpoint_id, lane) DO NOTHING
            """)
    }

    /// Records the event `make` builds from the user as stored now (inside the transaction).
    func recordAboutUser(_ sql: SQL, id: String, now: Date, _ make: (User) -> NewEvent) async throws {
        guard let user = try await Self.fetchUser(sql, id: id) else { return }
        try await record(sql, make(user), now: now)
    }

    /// Erases the personal members of every event of `userID` (contract §9.1).
    static func redactEvents(_ sql: SQL, userID: String) async throws {
        try await sql.execute("""
            UPDATE events SET data = (data::jsonb - \(NewEvent.personalKeys))::text WHERE subject = \(userID)
            """)
    }

    public func appendEvent(_ event: NewEvent, now: Date) async throws {
        try await write { [self] sql in try await record(sql, event, now: now) }
    }

    public func events(_ query: EventQuery) async throws -> EventPage {
        try await read { sql in
            // One statement: the horizon and the page from one snapshot.
            let rows = try await sql.rows("""
                SELECT s.pruned_through, e.position, e.id, e.type, e.subject, e.sequence, e.time, e.data
                FROM event_log_state s LEFT JOIN LATERAL (
                    SELECT * FROM events
                    WHERE position > coalesce(\(query.after), s.pruned_through)
                        AND (\(query.typePrefix)::text IS NULL OR starts_with(type, \(query.typePrefix)))
                        AND (\(query.subject)::text IS NULL OR subject = \(query.subject))
                    ORDER BY position LIMIT \(query.limit)) e ON true
                WHERE s.id = 1
                """)
            let pruned = try rows.first?.int64(0) ?? 0
            if let after = query.after, after < pruned { return .cursorExpired }
            return .events(try rows.filter { !$0.isNull(1) }.compactMap { try Self.event($0, from: 1) }, after: query.after ?? pruned)
        }
    }

    /// An event from `position, id, type, subject, sequence, time, data` from column `first` on.
    static func event(_ row: Cells, from first: Int = 0) throws -> StoredEvent? {
        guard let type = EventType(rawValue: try row.text(first + 2)) else { return nil }
        return StoredEvent(
            position: try row.int64(first), id: try row.text(first + 1), type: type, subject: try row.text(first + 3),
            sequence: try row.int64(first + 4), time: try row.date(first + 5), data: Array(try row.text(first + 6).utf8))
    }

    /// Removes events older than `cutoff`, except those a pending delivery still needs, and
    /// moves the expiry horizon of cursors. Returns how many went.
    static func pruneEvents(_ sql: SQL, olderThan cutoff: Date, batch: Int) async throws -> Int {
        guard let newest = try await sql.row("""
            SELECT max(position) FROM (
                SELECT position FROM events e WHERE time < \(cutoff.stored)
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_position = e.position AND d.status = 'pending')
                ORDER BY position LIMIT \(batch)) oldest
            """)?.optionalInt(0)
        else { return 0 }
        let removed = try await sql.execute("""
            DELETE FROM events WHERE position <= \(newest) AND time < \(cutoff.stored)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_position = events.position AND d.status = 'pending')
            """)
        try await sql.execute("UPDATE event_log_state SET pruned_through = greatest(pruned_through, \(newest)) WHERE id = 1")
        return removed
    }
}
