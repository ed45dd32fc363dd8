import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: SigningKeyStore {
    public func allSigningKeys() async throws -> [SigningKeyRecord] {
        try readOnCallingThread { db in try Self.fetchSigningKeys(db) }
    }

    public func addNextSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8]?, activateAfter: Date, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO signing_keys (kid, state, created_at, public_jwk, activate_after, private_key) VALUES (?, 'next', ?, ?, ?, ?)",
                arguments: [key.kid, now.stored, key.publicJWK, activateAfter.stored, sealedPrivateKey.map { Data($0) }])
        }
    }

    public func promoteNextSigningKey(now: Date, retireAfter: Date) async throws -> Bool {
        try await write { db in
            guard let kid = try String.fetchOne(
                db, sql: "SELECT kid FROM signing_keys WHERE state = 'next' AND activate_after <= ? ORDER BY activate_after, kid LIMIT 1",
                arguments: [now.stored])
            else { return false }
            try db.execute(sql: "UPDATE signing_keys SET state = 'retiring', retire_after = ? WHERE state = 'active'", arguments: [retireAfter.stored])
            try db.execute(sql: "UPDATE signing_keys SET state = 'active', activate_after = NULL WHERE kid = ?", arguments: [kid])
            return true
        }
    }

    public func storeFirstSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8], now: Date) async throws -> [SigningKeyRecord] {
        try await write { db in
            if try String.fetchOne(db, sql: "SELECT kid FROM signing_keys WHERE state = 'active'") == nil {
                try db.execute(
                    sql: "INSERT INTO signing_keys (kid, state, created_at, public_jwk, private_key) VALUES (?, 'active', ?, ?, ?)",
                    arguments: [key.kid, now.stored, key.publicJWK, Data(sealedPrivateKey)])
            }
            return try Self.fetchSigningKeys(db)
        }
    }

    public func sealedPrivateKeys() async throws -> [String: [UInt8]] {
        try readOnCallingThread { db in
            var keys: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kid, private_key FROM signing_keys WHERE private_key IS NOT NULL AND state <> 'retired'") {
                keys[row[0]] = [UInt8](row[1] as Data)
            }
            return keys
        }
    }

    public func sealedSecret(named name: String, orStore make: @Sendable () throws -> [UInt8]) async throws -> [UInt8] {
        let candidate = try make()
        return try await write { db in
            try db.execute(sql: "INSERT INTO stored_secrets (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", arguments: [name, Data(candidate)])
            return [UInt8](try Data.fetchOne(db, sql: "SELECT sealed FROM stored_secrets WHERE name = ?", arguments: [name]) ?? Data(candidate))
        }
    }

    public func reconcileSigningKeys(
        present: [SigningKeyMaterial], preferred: String, retireMissingAfter: Date, now: Date
    ) async throws -> [SigningKeyRecord] {
        try await write { db in
            let known = Set(try Self.fetchSigningKeys(db).map(\.kid))
            for key in present where !known.contains(key.kid) {
                try db.execute(
                    sql: "INSERT INTO signing_keys (kid, state, created_at, public_jwk) VALUES (?, 'retired', ?, ?)",
                    arguments: [key.kid, now.timeIntervalSince1970, key.publicJWK])
            }
            let active = try String.fetchOne(db, sql: "SELECT kid FROM signing_keys WHERE state = 'active'")
            if active == nil || !present.contains(where: { $0.kid == active }) {
                // The active key's PEM is gone: it can no longer sign, but its public key keeps
                // verifying the tokens it signed until they have expired.
                try db.execute(
                    sql: "UPDATE signing_keys SET state = 'retiring', retire_after = ? WHERE state = 'active'",
                    arguments: [retireMissingAfter.timeIntervalSince1970])
                try db.execute(
                    sql: "UPDATE signing_keys SET state = 'active', retire_after = NULL WHERE kid = ?",
                    arguments: [preferred])
            }
            return try Self.fetchSigningKeys(db)
        }
    }

    static func fetchSigningKeys(_ db: Database) throws -> [SigningKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT kid, state, created_at, retire_after, public_jwk, activate_after FROM signing_keys ORDER BY created_at, kid")
            .map { row in
                SigningKeyRecord(
                    kid: row["kid"],
                    state: SigningKeyState(rawValue: row["state"]) ?? .retired,
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    retireAfter: (row["retire_after"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    publicJWK: row["public_jwk"],
                    activateAfter: (row["activate_after"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
    }
}
