import Foundation
import Tessera
import TesseraCrypto

/// Lazy migration (contract §11.7) from a legacy application's users, kept as JSON Lines in
/// the file `EXAMPLE_LEGACY_USERS` names: `{"id", "email", "verified", "name", "salt",
/// "sha256"}`, where `sha256` is the hex SHA-256 of the salt followed by the password, as
/// many older applications stored them. Each user moves to Tessera at their first sign-in
/// (or recovery) with its id kept; the file is read at each call, so users can be added while
/// Tessera runs. Unset: no migration.
struct LegacyUserFile: UserMigrationHook {
    let name = "example-legacy-user-file"
    let path: String

    init?(environment: [String: String]) {
        guard let path = environment["EXAMPLE_LEGACY_USERS"], !path.isEmpty else { return nil }
        self.path = path
    }

    struct Unreadable: Error {}

    /// The legacy record of `email`, case-insensitively; throws when the file cannot be read
    /// (Tessera then answers 503 `migration_unavailable`, never "wrong password").
    func record(_ email: String) throws -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable() }
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if (object["email"] as? String)?.lowercased() == email.lowercased() { return object }
        }
        return nil
    }

    func migrated(_ object: [String: Any]) -> MigratedUser {
        MigratedUser(
            id: object["id"] as? String, emailVerified: object["verified"] as? Bool ?? false,
            attributes: (object["name"] as? String).map { ["name": $0] } ?? [:])
    }

    func signIn(email: String, password: String) async throws -> MigratedUser? {
        guard let object = try record(email), let salt = object["salt"] as? String, let stored = object["sha256"] as? String else { return nil }
        let digest = OpenSSLPrimitives().sha256(Array((salt + password).utf8))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        return constantTimeEquals(Array(hex.utf8), Array(stored.lowercased().utf8)) ? migrated(object) : nil
    }

    func recover(email: String) async throws -> MigratedUser? {
        try record(email).map(migrated)
    }
}
