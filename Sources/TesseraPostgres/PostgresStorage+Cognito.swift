import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: AccessKeyStore {
    public func createAccessKey(_ key: AccessKeyRecord) async throws {
        try await autocommit { sql in
            _ = try await sql.execute("""
                INSERT INTO access_keys (id, secret_sealed, created_at) VALUES (\(key.id), \(Data(key.sealedSecret)), \(key.createdAt.stored))
                """)
        }
    }

    static func accessKey(_ row: Cells) throws -> AccessKeyRecord {
        AccessKeyRecord(id: try row.text(0), sealedSecret: try row.bytes(1), createdAt: try row.date(2))
    }

    public func accessKey(id: String) async throws -> AccessKeyRecord? {
        try await read { sql in
            try await sql.row("SELECT id, secret_sealed, created_at FROM access_keys WHERE id = \(id)").map(Self.accessKey)
        }
    }

    public func listAccessKeys() async throws -> [AccessKeyRecord] {
        try await read { sql in
            try await sql.rows("SELECT id, secret_sealed, created_at FROM access_keys ORDER BY created_at, id").map(Self.accessKey)
        }
    }

    public func deleteAccessKey(id: String) async throws -> Bool {
        try await autocommit { sql in try await sql.execute("DELETE FROM access_keys WHERE id = \(id)") > 0 }
    }
}

extension PostgresStorage: SRPVerifierStore {
    public func srpVerifier(userID: String) async throws -> [UInt8]? {
        try await read { sql in
            try await sql.row("SELECT sealed FROM srp_verifiers WHERE user_id = \(userID)").map { try $0.bytes(0) }
        }
    }

    public func storeSRPVerifier(userID: String, sealed: [UInt8], now: Date) async throws {
        try await autocommit { sql in
            _ = try await sql.execute("""
                INSERT INTO srp_verifiers (user_id, sealed, updated_at) SELECT id, \(Data(sealed)), \(now.stored) FROM users WHERE id = \(userID)
                ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                """)
        }
    }
}

extension PostgresStorage: ChallengeStore {
    public func spendChallenge(id: String, expiresAt: Date) async throws -> Bool {
        try await autocommit { sql in
            try await sql.execute("INSERT INTO spent_challenges (id, expires_at) VALUES (\(id), \(expiresAt.stored)) ON CONFLICT (id) DO NOTHING") == 1
        }
    }
}

extension PostgresStorage: RefreshRetryStore {
    public func rememberSuccessor(of token: TokenHash, sealedSuccessor: [UInt8], expiresAt: Date) async throws {
        try await autocommit { sql in
            _ = try await sql.execute("""
                INSERT INTO refresh_retries (token_hash, successor_sealed, expires_at)
                SELECT token_hash, \(Data(sealedSuccessor)), \(expiresAt.stored) FROM refresh_tokens WHERE token_hash = \(token.stored)
                ON CONFLICT (token_hash) DO NOTHING
                """)
        }
    }

    public func rememberedSuccessor(of token: TokenHash, now: Date) async throws -> [UInt8]? {
        try await read { sql in
            try await sql.row("""
                SELECT successor_sealed FROM refresh_retries WHERE token_hash = \(token.stored) AND expires_at > \(now.stored)
                """).map { try $0.bytes(0) }
        }
    }
}
