import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: RevocationStore {
    public func revokeAccessToken(jti: String, expiresAt: Date, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING",
                arguments: [jti, expiresAt.stored, now.stored])
        }
    }

    public func accessTokenStanding(jti: String, userID: String, clientID: String) async throws -> AccessTokenStanding {
        try await pool.read { db in
            let revoked = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM revoked_access_tokens WHERE jti = ?"), arguments: [jti]) ?? false
            let clientNotBefore = try Double.fetchOne(db.cachedStatement(sql: "SELECT tokens_not_before FROM client_revocations WHERE client_id = ?"), arguments: [clientID])
            let registered = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM clients WHERE id = ?"), arguments: [clientID]) ?? false
            return AccessTokenStanding(
                jtiRevoked: revoked, user: try Self.fetchUser(db, id: userID), clientRegistered: registered,
                clientTokensNotBefore: clientNotBefore.map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func revokeClientTokens(clientID: String, now: Date) async throws -> Int {
        try await pool.write { db in try Self.revokeClientTokens(db, clientID: clientID, now: now) }
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
