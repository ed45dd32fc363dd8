import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: AuthorizationCodeStore {
    public func createCode(_ hash: TokenHash, _ record: AuthorizationCodeRecord, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, session_id, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [Data(hash.bytes), record.clientID, record.userID, record.redirectURI, record.scope, record.nonce,
                            record.codeChallenge, record.authTime.stored, record.sessionID, record.expiresAt.stored])
            // Codes live a minute: sweep the long expired ones while here.
            try db.execute(sql: "DELETE FROM authorization_codes WHERE expires_at < ?", arguments: [now.stored - 86400])
        }
    }

    public func redeemCode(
        _ hash: TokenHash, clientID: String, decide: @escaping @Sendable (AuthorizationCodeRecord, User?) -> CodeDecision, now: Date
    ) async throws -> CodeRedemption {
        try await write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM authorization_codes WHERE code_hash = ?"), arguments: [Data(hash.bytes)]) else {
                return .refused(.invalidGrant(reason: "unknown code"))
            }
            let record = AuthorizationCodeRecord(
                clientID: row["client_id"], userID: row["user_id"], redirectURI: row["redirect_uri"], scope: row["scope"],
                nonce: row["nonce"], codeChallenge: row["code_challenge"], authTime: row.date("auth_time"),
                sessionID: row["session_id"], expiresAt: row.date("expires_at"))
            guard record.clientID == clientID else { return .refused(.invalidGrant(reason: "code of another client")) }
            if row.optionalDate("used_at") != nil {
                // The first redemption stored its family in its own transaction, which committed
                // before this one began: there is always a row to revoke.
                if let familyID: String = row["issued_family_id"] {
                    try Self.revokeFamily(db, id: familyID, reason: "authorization code replayed", now: now)
                }
                if let jti: String = row["issued_access_jti"], let expires = row.optionalDate("issued_access_expires") {
                    try db.execute(
                        sql: "INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING",
                        arguments: [jti, expires.stored, now.stored])
                }
                return .replayed
            }
            guard record.expiresAt > now else { return .refused(.invalidGrant(reason: "code expired")) }
            let user = try Self.fetchUser(db, id: record.userID)
            let decision = decide(record, user)
            guard case .issue(let plan) = decision, let user else {
                try db.execute(sql: "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ?", arguments: [now.stored, Data(hash.bytes)])
                if case .refuse(let error) = decision { return .refused(error) }
                return .refused(.invalidGrant(reason: "user gone"))
            }
            try db.execute(
                sql: "UPDATE authorization_codes SET used_at = ?, issued_family_id = ?, issued_access_jti = ?, issued_access_expires = ? WHERE code_hash = ?",
                arguments: [now.stored, plan.family?.id, plan.accessJTI, plan.accessExpiresAt.stored, Data(hash.bytes)])
            if let family = plan.family, let firstToken = plan.firstRefreshToken {
                try Self.insertFamily(db, family, firstToken: firstToken, now: now)
            }
            return .redeemed(record, user)
        }
    }
}

extension SQLiteStorage: SSOSessionStore {
    public func createSession(id: String, tokenHash: TokenHash, userID: String, authTime: Date, expiresAt: Date, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO sso_sessions (id, token_hash, user_id, auth_time, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, Data(tokenHash.bytes), userID, authTime.stored, now.stored, expiresAt.stored])
        }
    }

    public func session(tokenHash: TokenHash, now: Date) async throws -> (id: String, user: User, authTime: Date)? {
        try readOnCallingThread { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, user_id, auth_time FROM sso_sessions WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ?
                """), arguments: [Data(tokenHash.bytes), now.stored]),
                let user = try Self.fetchUser(db, id: row["user_id"]), user.status == .active
            else { return nil }
            // A global sign-out after the session began ends it too.
            if let notBefore = user.tokensNotBefore, notBefore >= row.date("auth_time") { return nil }
            return (row["id"], user, row.date("auth_time"))
        }
    }

    public func endSession(tokenHash: TokenHash, now: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE sso_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL", arguments: [now.stored, Data(tokenHash.bytes)])
        }
    }
}
