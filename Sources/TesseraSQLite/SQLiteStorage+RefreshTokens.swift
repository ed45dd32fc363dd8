import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: RefreshTokenStore {
    public func createFamily(_ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) async throws {
        try await write { db in try Self.insertFamily(db, family, firstToken: firstToken, now: now) }
    }

    /// Stores a family and its first token (inside the caller's transaction).
    static func insertFamily(_ db: Database, _ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO refresh_token_families (id, user_id, client_id, scope, auth_time, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [family.id, family.userID, family.clientID, family.scope, family.authTime.stored,
                        family.createdAt.stored, family.expiresAt.stored])
        try insertToken(db, hash: firstToken, familyID: family.id, parent: nil, now: now)
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
        // its user in one statement; every statement prepared once and stepped directly
        // (``DirectStatement``): this is the one write on a hot path.
        try await write({ [self] db -> RotationOutcome in
            // `.rotated` here means only "found, current and allowed"; it is written below.
            var reusedBy: (RefreshTokenFamily, User?)?
            let found = try DirectStatement.execute(db, sql: Self.rotationLookup) { lookup -> RotationOutcome in
                try lookup.bind(presented.bytes, at: 1)
                guard try lookup.step() else { return .refused(reason: "unknown token") }
                let family = Self.family(lookup, from: 2)
                if let clientID, clientID != family.clientID { return .refused(reason: "token of another client") }
                if !lookup.isNull(at: 1) { return .refused(reason: "family revoked") }
                if family.expiresAt <= now { return .refused(reason: "family expired") }
                if !lookup.isNull(at: 0) {
                    reusedBy = (family, lookup.isNull(at: 9) ? nil : Self.user(lookup, from: 9))
                    return .reused(familyID: family.id)
                }
                guard !lookup.isNull(at: 9) else { return .refused(reason: "user gone") }
                let user = Self.user(lookup, from: 9)
                guard user.status == .active else { return .refused(reason: "user \(user.status.rawValue)") }
                return .rotated(family, user)
            }
            guard case .rotated(let family, let user) = found else {
                if case .reused(let familyID) = found {
                    try Self.revokeFamily(db, id: familyID, reason: "reuse detected", now: now)
                    if let (family, user) = reusedBy, let user {
                        try record(db, .refreshTokenReuse(user, familyID: family.id, clientID: family.clientID), now: now)
                    }
                }
                return found
            }
            try DirectStatement.execute(db, sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?") { update in
                try update.bind(now.stored, at: 1)
                try update.bind(presented.bytes, at: 2)
                try update.run()
            }
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
    static func family(_ columns: some ColumnValues, from first: Int = 0) -> RefreshTokenFamily {
        RefreshTokenFamily(
            id: columns.text(at: first), userID: columns.text(at: first + 1), clientID: columns.text(at: first + 2),
            scope: columns.text(at: first + 3), authTime: columns.date(at: first + 4), createdAt: columns.date(at: first + 5),
            expiresAt: columns.date(at: first + 6))
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
        try DirectStatement.execute(db, sql: "INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, issued_at) VALUES (?, ?, ?, ?)") { insert in
            try insert.bind(hash.bytes, at: 1)
            try insert.bind(familyID, at: 2)
            if let parent { try insert.bind(parent.bytes, at: 3) } else { try insert.bindNull(at: 3) }
            try insert.bind(now.stored, at: 4)
            try insert.run()
        }
    }
}
