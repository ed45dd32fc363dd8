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

    public func accessTokenStanding(jti: String, userID: String) async throws -> AccessTokenStanding {
        try await pool.read { db in
            let revoked = try Bool.fetchOne(db, sql: "SELECT 1 FROM revoked_access_tokens WHERE jti = ?", arguments: [jti]) ?? false
            return AccessTokenStanding(jtiRevoked: revoked, user: try Self.fetchUser(db, id: userID))
        }
    }
}
