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

    /// The token, its family and its user in one statement, for a rotation. Built once: the
    /// statement cache is keyed by this text, which each rotation would otherwise assemble anew.
    static let rotationLookup = """
        SELECT t.used_at, f.revoked_at, \(familyColumns), \(userColumns(prefixedWith: "u."))
        FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id LEFT JOIN users u ON u.id = f.user_id
        WHERE t.token_hash = ?
        """

    /// The family columns every read of a family selects, in the order ``family(_:from:)`` reads.
    static let familyColumns = "f.id, f.user_id, f.client_id, f.scope, f.auth_time, f.created_at, f.expires_at"

    public func rotate<Answer>(
        _ presented: TokenHash, successor: TokenHash, clientID: String?, now: Date,
        whileCommitting prepare: (RotationOutcome) async throws -> Answer
    ) async throws -> Answer {
        // One write transaction (BEGIN IMMEDIATE) from lookup to successor: no other rotation
        // of this token can interleave, in this process or another. The token, its family and
        // its user in one statement; every statement prepared once.
        try await write({ db -> RotationOutcome in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: Self.rotationLookup), arguments: [Data(presented.bytes)])
            else { return .refused(reason: "unknown token") }
            let family = Self.family(row, from: 2)
            if let clientID, clientID != family.clientID { return .refused(reason: "token of another client") }
            if (row[1] as Double?) != nil { return .refused(reason: "family revoked") }
            if family.expiresAt <= now { return .refused(reason: "family expired") }
            if (row[0] as Double?) != nil {
                try Self.revokeFamily(db, id: family.id, reason: "reuse detected", now: now)
                return .reused(familyID: family.id)
            }
            guard (row[9] as String?) != nil else { return .refused(reason: "user gone") }
            let user = Self.user(row, from: 9)
            guard user.status == .active else { return .refused(reason: "user \(user.status.rawValue)") }
            try db.cachedStatement(sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?")
                .execute(arguments: [now.stored, Data(presented.bytes)])
            try Self.insertToken(db, hash: successor, familyID: family.id, parent: presented, now: now)
            return .rotated(family, user)
        }, whileCommitting: prepare)
    }

    public func inspect(_ token: TokenHash) async throws -> RefreshTokenStanding? {
        try readOnCallingThread { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT t.issued_at, t.used_at, f.revoked_at, \(Self.familyColumns)
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = ?
                """), arguments: [Data(token.bytes)])
            else { return nil }
            let family = Self.family(row, from: 3)
            return RefreshTokenStanding(
                family: family, issuedAt: Date(timeIntervalSince1970: row[0]), used: (row[1] as Double?) != nil,
                familyRevoked: (row[2] as Double?) != nil, user: try Self.fetchUser(db, id: family.userID))
        }
    }

    public func family(containing token: TokenHash) async throws -> RefreshTokenFamily? {
        try readOnCallingThread { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(Self.familyColumns)
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = ?
                """), arguments: [Data(token.bytes)]).map { Self.family($0) }
        }
    }

    /// A family from ``familyColumns`` selected in their order, starting at column `first`.
    static func family(_ row: Row, from first: Int = 0) -> RefreshTokenFamily {
        RefreshTokenFamily(
            id: row[first], userID: row[first + 1], clientID: row[first + 2], scope: row[first + 3],
            authTime: Date(timeIntervalSince1970: row[first + 4]), createdAt: Date(timeIntervalSince1970: row[first + 5]),
            expiresAt: Date(timeIntervalSince1970: row[first + 6]))
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
        try db.cachedStatement(sql: "INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, issued_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [Data(hash.bytes), familyID, parent.map { Data($0.bytes) }, now.stored])
    }
}
