import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: SharedLimitStore {
    public func takeToken(_ key: String, rate: Double, burst: Double, now: Date) async throws -> TimeInterval? {
        // A bucket untouched this long is full again: the sweep may drop it.
        let refilled = now.stored + burst / rate
        return try await write { sql in
            guard let row = try await sql.row("""
                INSERT INTO rate_buckets AS b (key, tokens, admitted, updated_at, expires_at)
                VALUES (\(key), \(burst) - 1, true, \(now.stored), \(refilled))
                ON CONFLICT (key) DO UPDATE SET
                    admitted = least(\(burst), b.tokens + greatest(0, \(now.stored) - b.updated_at) * \(rate)) >= 1,
                    tokens = least(\(burst), b.tokens + greatest(0, \(now.stored) - b.updated_at) * \(rate))
                        - CASE WHEN least(\(burst), b.tokens + greatest(0, \(now.stored) - b.updated_at) * \(rate)) >= 1 THEN 1 ELSE 0 END,
                    updated_at = \(now.stored), expires_at = \(refilled)
                RETURNING admitted, tokens
                """)
            else { return nil }
            return try row.bool(0) ? nil : (1 - (try row.double(1))) / rate
        }
    }

    public func loginFailures(_ key: [UInt8], since: Date) async throws -> [Date] {
        try await read { sql in
            guard let row = try await sql.row("SELECT failures FROM login_failures WHERE account_key = \(Data(key))") else { return [] }
            return try row.row[0].decode([Double].self).filter { $0 > since.stored }.sorted().map(Date.init(timeIntervalSince1970:))
        }
    }

    public func recordLoginFailure(_ key: [UInt8], at: Date, since: Date, keep: Int, expires: Date) async throws -> [Date] {
        try await write { sql in
            guard let row = try await sql.row("""
                INSERT INTO login_failures AS l (account_key, failures, expires_at) VALUES (\(Data(key)), ARRAY[\(at.stored)], \(expires.stored))
                ON CONFLICT (account_key) DO UPDATE SET
                    failures = ARRAY(SELECT f FROM (SELECT f FROM unnest(l.failures || \(at.stored)) AS f WHERE f > \(since.stored)
                                                    ORDER BY f DESC LIMIT \(keep)) AS recent ORDER BY f),
                    expires_at = \(expires.stored)
                RETURNING failures
                """)
            else { return [] }
            return try row.row[0].decode([Double].self).filter { $0 > since.stored }.sorted().map(Date.init(timeIntervalSince1970:))
        }
    }

    public func clearLoginFailures(_ key: [UInt8]) async throws {
        try await write { sql in try await sql.execute("DELETE FROM login_failures WHERE account_key = \(Data(key))") }
    }
}
