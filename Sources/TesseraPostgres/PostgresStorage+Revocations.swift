import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: RevocationStore {
    public func revokeAccessToken(jti: String, expiresAt: Date, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (\(jti), \(expiresAt.stored), \(now.stored))
                ON CONFLICT (jti) DO NOTHING
                """)
        }
    }

    /// Read on every use of an access token, in one statement, and kept while no instance
    /// changed users, clients or revocations (``ClusterMemo``): a revocation through this
    /// instance holds on the next request, through another within `cluster_sync_interval`.
    public func accessTokenStanding(jti: String, userID: String, clientID: String, familyID: String?) async throws -> AccessTokenStanding {
        try await standings.value(for: StandingKey(jti: jti, userID: userID, clientID: clientID, familyID: familyID)) {
            try await readStanding(jti: jti, userID: userID, clientID: clientID, familyID: familyID)
        }
    }

    private func readStanding(jti: String, userID: String, clientID: String, familyID: String?) async throws -> AccessTokenStanding {
        try await read { sql in
            guard let row = try await sql.row("""
                SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = \(jti)),
                       (SELECT tokens_not_before FROM client_revocations WHERE client_id = \(clientID)),
                       EXISTS (SELECT 1 FROM clients WHERE id = \(clientID)),
                       EXISTS (SELECT 1 FROM refresh_token_families WHERE id = \(familyID) AND revoked_at IS NOT NULL),
                       \(unescaped: Self.userColumns(prefixedWith: "u."))
                FROM (SELECT 1) AS one LEFT JOIN users u ON u.id = \(userID)
                """)
            else { return AccessTokenStanding(jtiRevoked: false, user: nil, clientRegistered: false) }
            return AccessTokenStanding(
                jtiRevoked: try row.bool(0), user: row.isNull(4) ? nil : try Self.user(row, from: 4),
                clientRegistered: try row.bool(2), clientTokensNotBefore: try row.optionalDate(1), familyRevoked: try row.bool(3))
        }
    }

    public func revokeClientTokens(clientID: String, now: Date) async throws -> Int {
        try await write { sql in try await Self.revokeClientTokens(sql, clientID: clientID, now: now) }
    }

    static func revokeClientTokens(_ sql: SQL, clientID: String, now: Date) async throws -> Int {
        let families = try await sql.rows("""
            UPDATE refresh_token_families SET revoked_at = \(now.stored), revoked_reason = 'client revoked'
            WHERE client_id = \(clientID) AND revoked_at IS NULL RETURNING id
            """).map { try $0.text(0) }
        try await sql.execute("""
            UPDATE refresh_tokens SET used_at = \(now.stored) WHERE family_id = ANY (\(families)) AND used_at IS NULL
            """)
        try await sql.execute("""
            INSERT INTO client_revocations (client_id, tokens_not_before) VALUES (\(clientID), \(now.stored))
            ON CONFLICT (client_id) DO UPDATE SET tokens_not_before = excluded.tokens_not_before
            """)
        return families.count
    }
}

extension PostgresStorage: AuditLog {
    public func recordAdminAction(actor: String, action: String, target: String?, details: String?, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO admin_audit (at, actor, action, target, details) VALUES (\(now.stored), \(actor), \(action), \(target), \(details))
                """)
        }
    }

    public func adminActions(limit: Int, before: Int64?) async throws -> [AuditEntry] {
        try await read { sql in
            try await sql.rows("""
                SELECT id, at, actor, action, target, details FROM admin_audit
                WHERE \(before)::bigint IS NULL OR id < \(before) ORDER BY id DESC LIMIT \(limit)
                """).map { row in
                AuditEntry(
                    id: try row.int64(0), at: try row.date(1), actor: try row.text(2), action: try row.text(3), target: try row.optionalText(4),
                    details: try row.optionalText(5))
            }
        }
    }
}

/// What an access token's standing is read by.
struct StandingKey: Hashable, Sendable {
    let jti: String
    let userID: String
    let clientID: String
    let familyID: String?
}
