import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: AuthorizationCodeStore {
    public func createCode(_ hash: TokenHash, _ record: AuthorizationCodeRecord, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, session_id, expires_at)
                VALUES (\(hash.stored), \(record.clientID), \(record.userID), \(record.redirectURI), \(record.scope), \(record.nonce),
                        \(record.codeChallenge), \(record.authTime.stored), \(record.sessionID), \(record.expiresAt.stored))
                """)
            // Codes live a minute: sweep the long expired ones while here.
            try await sql.execute("DELETE FROM authorization_codes WHERE expires_at < \(now.stored - 86400)")
        }
    }

    public func redeemCode(
        _ hash: TokenHash, clientID: String, decide: @escaping @Sendable (AuthorizationCodeRecord, User?) -> CodeDecision, now: Date
    ) async throws -> CodeRedemption {
        try await write { sql in
            // Locked: a second presentation waits for the first to commit, then sees it used.
            guard let row = try await sql.row("""
                SELECT client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, session_id, expires_at,
                    used_at IS NOT NULL, issued_family_id, issued_access_jti, issued_access_expires
                FROM authorization_codes WHERE code_hash = \(hash.stored) FOR UPDATE
                """)
            else { return .refused(.invalidGrant(reason: "unknown code")) }
            let record = AuthorizationCodeRecord(
                clientID: try row.text(0), userID: try row.text(1), redirectURI: try row.text(2), scope: try row.text(3),
                nonce: try row.optionalText(4), codeChallenge: try row.optionalText(5), authTime: try row.date(6),
                sessionID: try row.optionalText(7), expiresAt: try row.date(8))
            guard record.clientID == clientID else { return .refused(.invalidGrant(reason: "code of another client")) }
            if try row.bool(9) {
                if let familyID = try row.optionalText(10) {
                    try await Self.revokeFamily(sql, id: familyID, reason: "authorization code replayed", now: now)
                }
                if let jti = try row.optionalText(11), let expires = try row.optionalDate(12) {
                    try await sql.execute("""
                        INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (\(jti), \(expires.stored), \(now.stored))
                        ON CONFLICT (jti) DO NOTHING
                        """)
                }
                return .replayed
            }
            guard record.expiresAt > now else { return .refused(.invalidGrant(reason: "code expired")) }
            let user = try await Self.fetchUser(sql, id: record.userID)
            let decision = decide(record, user)
            guard case .issue(let plan) = decision, let user else {
                try await sql.execute("UPDATE authorization_codes SET used_at = \(now.stored) WHERE code_hash = \(hash.stored)")
                if case .refuse(let error) = decision { return .refused(error) }
                return .refused(.invalidGrant(reason: "user gone"))
            }
            try await sql.execute("""
                UPDATE authorization_codes SET used_at = \(now.stored), issued_family_id = \(plan.family?.id),
                    issued_access_jti = \(plan.accessJTI), issued_access_expires = \(plan.accessExpiresAt.stored)
                WHERE code_hash = \(hash.stored)
                """)
            if let family = plan.family, let firstToken = plan.firstRefreshToken {
                try await Self.insertFamily(sql, family, firstToken: firstToken, now: now)
            }
            return .redeemed(record, user)
        }
    }
}

extension PostgresStorage: SSOSessionStore {
    public func createSession(id: String, tokenHash: TokenHash, userID: String, authTime: Date, expiresAt: Date, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO sso_sessions (id, token_hash, user_id, auth_time, created_at, expires_at)
                VALUES (\(id), \(tokenHash.stored), \(userID), \(authTime.stored), \(now.stored), \(expiresAt.stored))
                """)
        }
    }

    public func session(tokenHash: TokenHash, now: Date) async throws -> (id: String, user: User, authTime: Date)? {
        try await read { sql in
            guard let row = try await sql.row("""
                SELECT s.id, s.auth_time, \(unescaped: Self.userColumns(prefixedWith: "u."))
                FROM sso_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = \(tokenHash.stored) AND s.ended_at IS NULL AND s.expires_at > \(now.stored)
                """)
            else { return nil }
            let user = try Self.user(row, from: 2)
            let authTime = try row.date(1)
            guard user.status == .active else { return nil }
            // A global sign-out after the session began ends it too.
            if let notBefore = user.tokensNotBefore, notBefore >= authTime { return nil }
            return (try row.text(0), user, authTime)
        }
    }

    public func endSession(tokenHash: TokenHash, now: Date) async throws {
        try await write { sql in
            try await sql.execute("UPDATE sso_sessions SET ended_at = \(now.stored) WHERE token_hash = \(tokenHash.stored) AND ended_at IS NULL")
        }
    }
}
