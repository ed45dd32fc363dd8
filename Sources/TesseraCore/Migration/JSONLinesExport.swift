import Foundation

/// Tessera's JSON Lines as `tessera admin users export` writes them (contract §11.7): what
/// ``JSONLinesImport`` reads back, so that an export imported into a fresh database gives
/// the same users.
public enum JSONLinesExport {
    /// One user's line (without its line break): keys sorted, `password_hash` only when asked
    /// for and the user has one (``PortablePasswordHash/portable(fromStored:)``).
    public static func line(_ user: User, groups: [String], withHash: Bool) throws -> [UInt8] {
        var object: [String: Any] = [
            "user_id": user.id, "email": user.email, "email_verified": user.emailVerified, "status": user.status.rawValue,
            "created_at": RFC3339.format(user.createdAt), "attributes": user.attributes, "groups": groups.sorted(),
        ]
        if withHash, let hash = user.passwordHash { object["password_hash"] = PortablePasswordHash.portable(fromStored: hash) }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
