import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: AccessKeyStore {
    public func createAccessKey(_ key: AccessKeyRecord) async throws {
        do {
            try await write { db in
                try db.execute(
                    sql: "INSERT INTO access_keys (id, secret_sealed, created_at) VALUES (?, ?, ?)",
                    arguments: [key.id, Data(key.sealedSecret), key.createdAt.stored])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StorageError.alreadyExists
        }
    }

    static func accessKey(_ row: Row) -> AccessKeyRecord {
        AccessKeyRecord(id: row[0], sealedSecret: Array(row[1] as Data), createdAt: Date(timeIntervalSince1970: row[2]))
    }

    public func accessKey(id: String) async throws -> AccessKeyRecord? {
        try readOnCallingThread { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, secret_sealed, created_at FROM access_keys WHERE id = ?"), arguments: [id])
                .map(Self.accessKey)
        }
    }

    public func listAccessKeys() async throws -> [AccessKeyRecord] {
        try readOnCallingThread { db in
            try Row.fetchAll(db, sql: "SELECT id, secret_sealed, created_at FROM access_keys ORDER BY created_at, id").map(Self.accessKey)
        }
    }

    public func deleteAccessKey(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM access_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}

extension SQLiteStorage: SRPVerifierStore {
    public func srpVerifier(userID: String) async throws -> [UInt8]? {
        try readOnCallingThread { db in
            try (Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM srp_verifiers WHERE user_id = ?"), arguments: [userID])).map { Array($0) }
        }
    }

    public func storeSRPVerifier(userID: String, sealed: [UInt8], now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO srp_verifiers (user_id, sealed, updated_at) SELECT id, ?, ? FROM users WHERE id = ?
                    ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                    """,
                arguments: [Data(sealed), now.stored, userID])
        }
    }
}

extension SQLiteStorage: ChallengeStore {
    public func spendChallenge(id: String, expiresAt: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO spent_challenges (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", arguments: [id, expiresAt.stored])
            return db.changesCount == 1
        }
    }
}

extension SQLiteStorage: RefreshRetryStore {
    public func rememberSuccessor(of token: TokenHash, sealedSuccessor: [UInt8], expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO refresh_retries (token_hash, successor_sealed, expires_at) SELECT token_hash, ?, ? FROM refresh_tokens
                    WHERE token_hash = ? ON CONFLICT (token_hash) DO NOTHING
                    """,
                arguments: [Data(sealedSuccessor), expiresAt.stored, Data(token.bytes)])
        }
    }

    public func rememberedSuccessor(of token: TokenHash, now: Date) async throws -> [UInt8]? {
        try readOnCallingThread { db in
            try Data.fetchOne(
                db.cachedStatement(sql: "SELECT successor_sealed FROM refresh_retries WHERE token_hash = ? AND expires_at > ?"),
                arguments: [Data(token.bytes), now.stored]
            ).map { Array($0) }
        }
    }
}
