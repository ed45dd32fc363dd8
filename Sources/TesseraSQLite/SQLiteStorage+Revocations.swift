import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: RevocationStore {
    public func revokeAccessToken(jti: String, expiresAt: Date, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING",
                arguments: [jti, expiresAt.stored, now.stored])
        }
    }

    public func accessTokenStanding(jti: String, userID: String, clientID: String, familyID: String?) async throws -> AccessTokenStanding {
        // Checked on every use of a token: kept while what it reads is unchanged, else one
        // statement. Every table it reads is counted in 'standings' (migration 0005).
        try standings.value(for: StandingKey(jti: jti, userID: userID, clientID: clientID, familyID: familyID)) {
            try readStanding(jti: jti, userID: userID, clientID: clientID, familyID: familyID)
        }
    }

    /// A token's standing in one statement: its jti revoked, its client's revocation and
    /// registration, its user. Built once, like every statement text the cache is keyed by.
    private static let standingLookup = """
        SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?1) AS jti_revoked,
               (SELECT tokens_not_before FROM client_revocations WHERE client_id = ?2) AS client_not_before,
               EXISTS (SELECT 1 FROM clients WHERE id = ?2) AS client_registered,
               EXISTS (SELECT 1 FROM refresh_token_families WHERE id = ?4 AND revoked_at IS NOT NULL) AS family_revoked,
               \(userColumns(prefixedWith: "u."))
        FROM (SELECT 1) LEFT JOIN users u ON u.id = ?3
        """

    private func readStanding(jti: String, userID: String, clientID: String, familyID: String?) throws -> AccessTokenStanding {
        try readOneStatementOnCallingThread { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: Self.standingLookup), arguments: [jti, clientID, userID, familyID])
            guard let row else { return AccessTokenStanding(jtiRevoked: false, user: nil, clientRegistered: false) }
            return AccessTokenStanding(
                jtiRevoked: row[0], user: row.isNull(at: 4) ? nil : Self.user(row, from: 4),
                clientRegistered: row[2], clientTokensNotBefore: (row[1] as Double?).map(Date.init(timeIntervalSince1970:)), familyRevoked: row[3])
        }
    }

    public func revokeClientTokens(clientID: String, now: Date) async throws -> Int {
        try await write { db in try Self.revokeClientTokens(db, clientID: clientID, now: now) }
    }

    static func revokeClientTokens(_ db: Database, clientID: String, now: Date) throws -> Int {
        try db.execute(
            sql: "UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = 'client revoked' WHERE client_id = ? AND revoked_at IS NULL",
            arguments: [now.stored, clientID])
        let families = db.changesCount
        try db.execute(
            sql: "INSERT INTO client_revocations (client_id, tokens_not_before) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET tokens_not_before = excluded.tokens_not_before",
            arguments: [clientID, now.stored])
        return families
    }
}

/// What an access token's standing is read by.
struct StandingKey: Hashable, Sendable {
    let jti: String
    let userID: String
    let clientID: String
    let familyID: String?
}
