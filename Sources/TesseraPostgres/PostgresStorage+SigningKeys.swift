import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: SigningKeyStore {
    public func allSigningKeys() async throws -> [SigningKeyRecord] {
        try await read { sql in try await Self.fetchSigningKeys(sql) }
    }

    public func addNextSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8]?, activateAfter: Date, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO signing_keys (kid, state, created_at, public_jwk, activate_after, private_key)
                VALUES (\(key.kid), 'next', \(now.stored), \(key.publicJWK), \(activateAfter.stored), \(sealedPrivateKey.map { Data($0) }))
                """)
        }
    }

    public func promoteNextSigningKey(now: Date, retireAfter: Date) async throws -> Bool {
        try await write { sql in
            // The next key's row is locked: of instances promoting at once, the others wait and
            // then find it active.
            guard let kid = try await sql.row("""
                SELECT kid FROM signing_keys WHERE state = 'next' AND activate_after <= \(now.stored)
                ORDER BY activate_after, kid LIMIT 1 FOR UPDATE SKIP LOCKED
                """)?.text(0)
            else { return false }
            try await sql.execute("UPDATE signing_keys SET state = 'retiring', retire_after = \(retireAfter.stored) WHERE state = 'active'")
            try await sql.execute("UPDATE signing_keys SET state = 'active', activate_after = NULL WHERE kid = \(kid)")
            return true
        }
    }

    public func storeFirstSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8], now: Date) async throws -> [SigningKeyRecord] {
        try await write { sql in
            // The unique index on the active state lets one of several starting instances in.
            try await sql.execute("""
                INSERT INTO signing_keys (kid, state, created_at, public_jwk, private_key)
                SELECT \(key.kid), 'active', \(now.stored), \(key.publicJWK), \(Data(sealedPrivateKey))
                WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'active')
                ON CONFLICT DO NOTHING
                """)
            return try await Self.fetchSigningKeys(sql)
        }
    }

    public func sealedPrivateKeys() async throws -> [String: [UInt8]] {
        try await read { sql in
            var keys: [String: [UInt8]] = [:]
            for row in try await sql.rows("SELECT kid, private_key FROM signing_keys WHERE private_key IS NOT NULL AND state <> 'retired'") {
                keys[try row.text(0)] = try row.bytes(1)
            }
            return keys
        }
    }

    public func sealedSecret(named name: String, orStore make: @Sendable () throws -> [UInt8]) async throws -> [UInt8] {
        let candidate = try make()
        return try await write { sql in
            try await sql.execute("INSERT INTO stored_secrets (name, sealed) VALUES (\(name), \(Data(candidate))) ON CONFLICT (name) DO NOTHING")
            guard let stored = try await sql.row("SELECT sealed FROM stored_secrets WHERE name = \(name)") else { throw StorageError.notFound }
            return try stored.bytes(0)
        }
    }

    public func reconcileSigningKeys(
        present: [SigningKeyMaterial], preferred: String, retireMissingAfter: Date, now: Date
    ) async throws -> [SigningKeyRecord] {
        try await write { sql in
            // One reconciliation at a time across instances starting together.
            try await sql.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            let known = Set(try await Self.fetchSigningKeys(sql).map(\.kid))
            for key in present where !known.contains(key.kid) {
                try await sql.execute("""
                    INSERT INTO signing_keys (kid, state, created_at, public_jwk) VALUES (\(key.kid), 'retired', \(now.stored), \(key.publicJWK))
                    """)
            }
            let active = try await sql.row("SELECT kid FROM signing_keys WHERE state = 'active'").map { try $0.text(0) }
            if active == nil || !present.contains(where: { $0.kid == active }) {
                try await sql.execute("UPDATE signing_keys SET state = 'retiring', retire_after = \(retireMissingAfter.stored) WHERE state = 'active'")
                try await sql.execute("UPDATE signing_keys SET state = 'active', retire_after = NULL WHERE kid = \(preferred)")
            }
            return try await Self.fetchSigningKeys(sql)
        }
    }

    static func fetchSigningKeys(_ sql: SQL) async throws -> [SigningKeyRecord] {
        try await sql.rows("SELECT kid, state, created_at, retire_after, public_jwk, activate_after FROM signing_keys ORDER BY created_at, kid").map { row in
            SigningKeyRecord(
                kid: try row.text(0), state: SigningKeyState(rawValue: try row.text(1)) ?? .retired, createdAt: try row.date(2),
                retireAfter: try row.optionalDate(3), publicJWK: try row.text(4), activateAfter: try row.optionalDate(5))
        }
    }
}
