import Foundation

/// One user as an import file describes it (contract §11.7), checked and ready to store.
public struct ImportedUser: Sendable, Equatable {
    /// The user id to keep (Cognito's `sub`); new users without one get a random id.
    public var id: String
    /// Whether the file named the id. A record without one names its user by address: a re-run
    /// finds the user the first run created (``resolvingID(emailOwner:)``).
    public var keepsID: Bool
    public var email: String
    public var emailVerified: Bool
    public var status: UserStatus
    public var createdAt: Date?
    public var attributes: [String: String]
    /// Group names; a group that does not exist yet is created.
    public var groups: [String]
    /// The hash to store (``PortablePasswordHash/stored(fromPortable:)``), nil when the file
    /// has none: the user then has no password until a recovery or a lazy migration sets one.
    public var passwordHash: String?

    public init(
        id: String, email: String, emailVerified: Bool, status: UserStatus, createdAt: Date?, attributes: [String: String],
        groups: [String], passwordHash: String?, keepsID: Bool = true
    ) {
        self.id = id
        self.keepsID = keepsID
        self.email = email
        self.emailVerified = emailVerified
        self.status = status
        self.createdAt = createdAt
        self.attributes = attributes
        self.groups = groups
        self.passwordHash = passwordHash
    }

    /// The record with the id of the account that signs in with its address, when the file
    /// named no id and there is one.
    public func resolvingID(emailOwner: String?) -> ImportedUser {
        guard !keepsID, let emailOwner else { return self }
        var resolved = self
        resolved.id = emailOwner
        return resolved
    }

    /// The bounds on a kept user id: 1–128 characters of `A–Z a–z 0–9 . _ ~ : -`, not
    /// starting with `-` (Tessera's ids and Cognito's UUID `sub`s both fit).
    public static func isValidID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.first != "-"
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
            }
    }
}

/// What storing one ``ImportedUser`` did.
public enum ImportOutcome: Sendable, Equatable {
    case created
    /// The user existed (same id) and something about it changed.
    case updated
    /// The user existed exactly as the file describes it.
    case unchanged
    /// Not stored, for this reason (the rest of the batch is unaffected).
    case refused(String)
}

/// Password hashes as the JSON Lines of an import or an export carry them (contract §11.7).
public enum PortablePasswordHash {
    /// The bcrypt costs an import accepts.
    public static let costs = 4...31

    /// The stored form of a hash from a file, nil when it is not one Tessera can check:
    /// - a bare bcrypt string, `$2a$`, `$2b$` or `$2y$`, cost 4–31, made of the password
    ///   itself (as other systems make them), is kept as an imported hash, written `$2b$` (the
    ///   three prefixes mean the same algorithm to every current implementation);
    /// - `tessera-v2:` and a bcrypt string, as ``portable(fromStored:)`` writes Tessera's own
    ///   hashes, is kept as it is.
    public static func stored(fromPortable text: String) -> String? {
        let (scheme, bcrypt) = PasswordHashScheme.parse(text)
        switch scheme {
        case .current:
            guard let normalized = normalizedBcrypt(bcrypt) else { return nil }
            return PasswordHashScheme.stored(current: normalized)
        case .legacy:
            guard let normalized = normalizedBcrypt(bcrypt) else { return nil }
            return PasswordHashScheme.stored(imported: normalized)
        case .imported:
            return nil
        }
    }

    /// What an export writes for a stored hash: Tessera's own hashes with their `tessera-v2:`
    /// scheme (bcrypt over a keyed digest of the password, which only Tessera checks), the
    /// others as the bare bcrypt string they were imported as.
    public static func portable(fromStored stored: String) -> String {
        let (scheme, bcrypt) = PasswordHashScheme.parse(stored)
        return scheme == .current ? stored : bcrypt
    }

    /// `$2b$NN$` and 53 characters of bcrypt's alphabet, from any of the three prefixes.
    static func normalizedBcrypt(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
              bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), costs.contains(cost),
              bytes[7...].allSatisfy(isBcryptBase64)
        else { return nil }
        return "$2b$" + String(decoding: bytes[4...], as: UTF8.self)
    }

    static func isBcryptBase64(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
    }
}
