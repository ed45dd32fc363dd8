import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: RefreshTokenStore {
    public func createFamily(_ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO refresh_token_families (id, user_id, client_id, scope, auth_time, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [family.id, family.userID, family.clientID, family.scope, family.authTime.stored,
                            family.createdAt.stored, family.expiresAt.stored])
            try Self.insertToken(db, hash: firstToken, familyID: family.id, parent: nil, now: now)
        }
    }

    public func rotate(_ presented: TokenHash, successor: TokenHash, clientID: String?, now: Date) async throws -> RotationOutcome {
        // One write transaction (BEGIN IMMEDIATE) from lookup to successor: no other rotation
        // of this token can interleave, in this process or another.
        try await write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT t.used_at, f.id, f.user_id, f.client_id, f.scope, f.auth_time, f.created_at, f.expires_at, f.revoked_at
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
                WHERE t.token_hash = ?
                """), arguments: [Data(presented.bytes)])
            else { return .refused(reason: "unknown token") }
            let family = Self.family(row)
            if let clientID, clientID != family.clientID { return .refused(reason: "token of another client") }
            if row.optionalDate("revoked_at") != nil { return .refused(reason: "family revoked") }
            if family.expiresAt <= now { return .refused(reason: "family expired") }
            if row.optionalDate("used_at") != nil {
                try Self.revokeFamily(db, id: family.id, reason: "reuse detected", now: now)
                return .reused(familyID: family.id)
            }
            guard let user = try Self.fetchUser(db, id: family.userID) else { return .refused(reason: "user gone") }
            guard user.status == .active else { return .refused(reason: "user \(user.status.rawValue)") }
            try db.execute(sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", arguments: [now.stored, Data(presented.bytes)])
            try Self.insertToken(db, hash: successor, familyID: family.id, parent: presented, now: now)
            return .rotated(family, user)
        }
    }

    public func inspect(_ token: TokenHash) async throws -> RefreshTokenStanding? {
        try readOnCallingThread { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT t.issued_at AS token_issued_at, t.used_at, f.id, f.user_id, f.client_id, f.scope, f.auth_time,
                       f.created_at, f.expires_at, f.revoked_at
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = ?
                """), arguments: [Data(token.bytes)])
            else { return nil }
            let family = Self.family(row)
            return RefreshTokenStanding(
                family: family, issuedAt: row.date("token_issued_at"), used: row.optionalDate("used_at") != nil,
                familyRevoked: row.optionalDate("revoked_at") != nil, user: try Self.fetchUser(db, id: family.userID))
        }
    }

    public func family(containing token: TokenHash) async throws -> RefreshTokenFamily? {
        try readOnCallingThread { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT f.id, f.user_id, f.client_id, f.scope, f.auth_time, f.created_at, f.expires_at
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = ?
                """), arguments: [Data(token.bytes)]).map(Self.family)
        }
    }

    static func family(_ row: Row) -> RefreshTokenFamily {
        RefreshTokenFamily(
            id: row["id"], userID: row["user_id"], clientID: row["client_id"], scope: row["scope"],
            authTime: row.date("auth_time"), createdAt: row.date("created_at"), expiresAt: row.date("expires_at"))
    }

    public func revokeFamily(containing token: TokenHash, reason: String, now: Date) async throws -> Bool {
        try await write { db in
            guard let familyID = try String.fetchOne(db.cachedStatement(sql: "SELECT family_id FROM refresh_tokens WHERE token_hash = ?"), arguments: [Data(token.bytes)]) else {
                return false
            }
            try Self.revokeFamily(db, id: familyID, reason: reason, now: now)
            return true
        }
    }

    static func revokeFamily(_ db: Database, id: String, reason: String, now: Date) throws {
        try db.execute(
            sql: "UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
            arguments: [now.stored, reason, id])
    }

    static func insertToken(_ db: Database, hash: TokenHash, familyID: String, parent: TokenHash?, now: Date) throws {
        try db.execute(
            sql: "INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, issued_at) VALUES (?, ?, ?, ?)",
            arguments: [Data(hash.bytes), familyID, parent.map { Data($0.bytes) }, now.stored])
    }
}
