import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: RefreshTokenStore {
    /// The family columns every read of a family selects, in the order ``family(_:from:)`` reads.
    static let familyColumns = "f.id, f.user_id, f.client_id, f.scope, f.auth_time, f.created_at, f.expires_at"

    /// A family from ``familyColumns`` selected in their order, starting at column `first`.
    static func family(_ cells: Cells, from first: Int = 0) throws -> RefreshTokenFamily {
        RefreshTokenFamily(
            id: try cells.text(first), userID: try cells.text(first + 1), clientID: try cells.text(first + 2),
            scope: try cells.text(first + 3), authTime: try cells.date(first + 4), createdAt: try cells.date(first + 5),
            expiresAt: try cells.date(first + 6))
    }

    /// Names for the columns the rotation returns (a family's and a user's share some).
    static let spentColumns = (0..<19).map { "c\($0)" }.joined(separator: ", ")

    public func createFamily(_ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) async throws {
        try await write { sql in try await Self.insertFamily(sql, family, firstToken: firstToken, now: now) }
    }

    /// Stores a family and its first token (inside the caller's transaction).
    static func insertFamily(_ sql: SQL, _ family: RefreshTokenFamily, firstToken: TokenHash, now: Date) async throws {
        try await sql.execute("""
            INSERT INTO refresh_token_families (id, user_id, client_id, scope, auth_time, created_at, expires_at)
            VALUES (\(family.id), \(family.userID), \(family.clientID), \(family.scope), \(family.authTime.stored),
                    \(family.createdAt.stored), \(family.expiresAt.stored))
            """)
        try await sql.execute("""
            INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, issued_at)
            VALUES (\(firstToken.stored), \(family.id), NULL, \(now.stored))
            """)
    }

    public func rotate<Answer>(
        _ presented: TokenHash, successor: TokenHash, clientID: String?, now: Date,
        whileCommitting prepare: (RotationOutcome) async throws -> Answer
    ) async throws -> Answer {
        // The compare-and-set, with the successor, as one statement (one round trip, committed by
        // itself): the UPDATE spends the token when it is current and every condition holds, and
        // the INSERT stores the successor only when it did. Of concurrent presentations on any
        // instances, the row lock lets one through; the others re-check `used_at IS NULL` once it
        // commits and match nothing.
        let spent = try await autocommit { sql in
            try await sql.row("""
                WITH spent (\(unescaped: Self.spentColumns)) AS (
                    UPDATE refresh_tokens t SET used_at = \(now.stored)
                    FROM refresh_token_families f JOIN users u ON u.id = f.user_id
                    WHERE t.token_hash = \(presented.stored) AND t.used_at IS NULL AND f.id = t.family_id
                        AND f.revoked_at IS NULL AND f.expires_at > \(now.stored)
                        AND (\(clientID)::text IS NULL OR f.client_id = \(clientID)) AND u.status = 'active'
                    RETURNING \(unescaped: Self.familyColumns), \(unescaped: Self.userColumns(prefixedWith: "u."))),
                successor AS (
                    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, issued_at)
                    SELECT \(successor.stored), c0, \(presented.stored), \(now.stored) FROM spent)
                SELECT * FROM spent
                """).map { (try Self.family($0), try Self.user($0, from: 7)) }
        }
        if let (family, user) = spent { return try await prepare(.rotated(family, user)) }
        let outcome = try await write { [self] sql -> RotationOutcome in
            // Not spent: say why, from the token as it stands now.
            guard let found = try await sql.row("""
                SELECT t.used_at IS NOT NULL, f.revoked_at IS NOT NULL, \(unescaped: Self.familyColumns), \(unescaped: Self.userColumns(prefixedWith: "u."))
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id LEFT JOIN users u ON u.id = f.user_id
                WHERE t.token_hash = \(presented.stored)
                """)
            else { return .refused(reason: "unknown token") }
            let family = try Self.family(found, from: 2)
            if let clientID, clientID != family.clientID { return .refused(reason: "token of another client") }
            if try found.bool(1) { return .refused(reason: "family revoked") }
            if family.expiresAt <= now { return .refused(reason: "family expired") }
            let user = found.isNull(9) ? nil : try Self.user(found, from: 9)
            if try found.bool(0) {
                try await Self.revokeFamily(sql, id: family.id, reason: "reuse detected", now: now)
                if let user { try await record(sql, .refreshTokenReuse(user, familyID: family.id, clientID: family.clientID), now: now) }
                return .reused(familyID: family.id)
            }
            guard let user else { return .refused(reason: "user gone") }
            return .refused(reason: "user \(user.status.rawValue)")
        }
        return try await prepare(outcome)
    }

    public func inspect(_ token: TokenHash) async throws -> RefreshTokenStanding? {
        try await read { sql in
            guard let row = try await sql.row("""
                SELECT t.issued_at, t.used_at IS NOT NULL, f.revoked_at IS NOT NULL, \(unescaped: Self.familyColumns),
                    \(unescaped: Self.userColumns(prefixedWith: "u."))
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id LEFT JOIN users u ON u.id = f.user_id
                WHERE t.token_hash = \(token.stored)
                """)
            else { return nil }
            return RefreshTokenStanding(
                family: try Self.family(row, from: 3), issuedAt: try row.date(0), used: try row.bool(1), familyRevoked: try row.bool(2),
                user: row.isNull(10) ? nil : try Self.user(row, from: 10))
        }
    }

    public func family(containing token: TokenHash) async throws -> RefreshTokenFamily? {
        try await read { sql in
            try await sql.row("""
                SELECT \(unescaped: Self.familyColumns)
                FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = \(token.stored)
                """).map { try Self.family($0) }
        }
    }

    public func revokeFamily(containing token: TokenHash, reason: String, now: Date) async throws -> Bool {
        try await write { sql in
            guard let row = try await sql.row("SELECT family_id FROM refresh_tokens WHERE token_hash = \(token.stored)") else { return false }
            try await Self.revokeFamily(sql, id: try row.text(0), reason: reason, now: now)
            return true
        }
    }

    /// Revokes a family and marks its live token spent, so that a rotation racing the
    /// revocation waits for the token's row and then finds nothing to rotate.
    static func revokeFamily(_ sql: SQL, id: String, reason: String, now: Date) async throws {
        try await sql.execute("""
            UPDATE refresh_token_families SET revoked_at = \(now.stored), revoked_reason = \(reason) WHERE id = \(id) AND revoked_at IS NULL
            """)
        try await sql.execute("UPDATE refresh_tokens SET used_at = \(now.stored) WHERE family_id = \(id) AND used_at IS NULL")
    }
}
