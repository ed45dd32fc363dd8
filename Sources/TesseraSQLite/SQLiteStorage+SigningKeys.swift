import Foundation
import GRDB
import TesseraCore

extension SQLiteStorage: SigningKeyStore {
    public func allSigningKeys() async throws -> [SigningKeyRecord] {
        try readOnCallingThread { db in try Self.fetchSigningKeys(db) }
    }

    public func rotateSigningKey(to new: SigningKeyMaterial, retireAfter: Date, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE signing_keys SET state = 'retiring', retire_after = ? WHERE state = 'active'",
                arguments: [retireAfter.stored])
            try db.execute(
                sql: "INSERT INTO signing_keys (kid, state, created_at, public_jwk) VALUES (?, 'active', ?, ?)",
                arguments: [new.kid, now.stored, new.publicJWK])
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
        try Row.fetchAll(db, sql: "SELECT kid, state, created_at, retire_after, public_jwk FROM signing_keys ORDER BY created_at, kid")
            .map { row in
                SigningKeyRecord(
                    kid: row["kid"],
                    state: SigningKeyState(rawValue: row["state"]) ?? .retired,
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    retireAfter: (row["retire_after"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    publicJWK: row["public_jwk"])
            }
    }
}
