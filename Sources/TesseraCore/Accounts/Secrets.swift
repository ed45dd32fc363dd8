import Foundation

/// A password as typed, normalised (NFKC) and checked by ``PasswordPolicy``.
/// Its description is redacted so it can never reach a log by accident.
public struct Password: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The normalised text.
    public let text: String

    init(normalized text: String) {
        self.text = text
    }

    /// What bcrypt is given for this password under `scheme`; nil when this password must never
    /// match a hash of that scheme.
    ///
    /// - ``PasswordHashScheme/current``: base64(HMAC-SHA-256(key: a fixed domain label, password)),
    ///   44 bytes, for every password. bcrypt reads at most 72 bytes, so nothing is truncated,
    ///   and since every typed password goes through the HMAC, no text typed at login is ever
    ///   bcrypt's input itself: knowing some hash of a user's password (another site's
    ///   unsalted SHA-256, say) does not sign anyone in.
    /// - ``PasswordHashScheme/legacy`` (hashes stored before): the password itself up to 72
    ///   bytes, else base64(SHA-256(password)). A typed password shaped like such a pre-hash
    ///   (44 characters of base64 ending in `=`) is refused against a legacy hash, so the
    ///   pre-hash cannot be typed in instead of the long password. Legacy hashes are replaced
    ///   with current ones at the next successful login.
    public func bcryptInput(for scheme: PasswordHashScheme, using crypto: some CryptoPrimitives) -> String? {
        let bytes = Array(text.utf8)
        switch scheme {
        case .current:
            return Data(crypto.hmacSHA256(key: Self.domain, bytes)).base64EncodedString()
        case .legacy:
            if bytes.count > PasswordPolicy.bcryptMaximumBytes { return Data(crypto.sha256(bytes)).base64EncodedString() }
            return Self.looksPrehashed(bytes) ? nil : text
        case .imported:
            // As every other bcrypt does: the password itself, of which bcrypt reads 72 bytes.
            return text
        }
    }

    /// The HMAC key of the current scheme: a label, not a secret; it separates this use of
    /// the password from every other hash of it.
    static let domain = Array("tessera password v2".utf8)

    /// 43 characters of standard base64 and one `=`: what base64(SHA-256(…)) looks like.
    static func looksPrehashed(_ bytes: [UInt8]) -> Bool {
        bytes.count == 44 && bytes[43] == UInt8(ascii: "=") && bytes[..<43].allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F
        }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// How a stored password hash was made: which input bcrypt was given (``Password/bcryptInput(for:using:)``).
public enum PasswordHashScheme: Sendable, Equatable {
    /// Stored as `tessera-v2:` + the bcrypt string.
    case current
    /// A bare bcrypt string, as stored before the current scheme (and as imported bcrypt
    /// hashes of plain passwords are).
    case legacy
    /// Stored as `bcrypt:` + a bcrypt string another system made of the password itself (an
    /// import, contract §11.7): checked as that system did, replaced at the next sign-in.
    case imported

    static let currentPrefix = "tessera-v2:"
    static let importedPrefix = "bcrypt:"

    /// The scheme of a stored hash and its bcrypt string.
    public static func parse(_ stored: String) -> (scheme: PasswordHashScheme, bcrypt: String) {
        if stored.hasPrefix(currentPrefix) { return (.current, String(stored.dropFirst(currentPrefix.count))) }
        if stored.hasPrefix(importedPrefix) { return (.imported, String(stored.dropFirst(importedPrefix.count))) }
        return (.legacy, stored)
    }

    /// What is stored for a bcrypt string another system made of a plain password.
    public static func stored(imported bcrypt: String) -> String { importedPrefix + bcrypt }

    /// What is stored for a bcrypt string made under the current scheme.
    public static func stored(current bcrypt: String) -> String { currentPrefix + bcrypt }
}

/// The SHA-256 of a secret token: all that is stored of it.
public struct TokenHash: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}

/// An opaque refresh token: `tsr_` + base64url of 32 bytes (256 bits) from the CSPRNG.
/// The prefix lets secret scanners recognise a leaked one.
public struct RefreshToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public static let prefix = "tsr_"
    static let entropyBytes = 32

    /// The token as handed to the client.
    public let value: String

    /// The longest token accepted for a lookup (a bound on what a request makes us hash).
    static let maximumLength = 512

    /// Wraps a token presented by a client; nil unless it has the shape of one: `tsr_` and
    /// base64url of at least 256 bits (43 characters or more). Tessera issues 43; a longer one
    /// is well-formed, just unknown.
    public init?(presented value: String) {
        let count = value.utf8.count - Self.prefix.utf8.count
        guard value.hasPrefix(Self.prefix), count >= 43, value.utf8.count <= Self.maximumLength,
              Base64URL.decode(value.dropFirst(Self.prefix.count)) != nil
        else { return nil }
        self.value = value
    }

    private init(value: String) {
        self.value = value
    }

    /// A new token from the CSPRNG.
    public static func generate(using crypto: some CryptoPrimitives) -> RefreshToken {
        RefreshToken(value: prefix + Base64URL.encode(crypto.randomBytes(entropyBytes)))
    }

    /// The hash under which the token is stored.
    public func hash(using crypto: some CryptoPrimitives) -> TokenHash {
        TokenHash(bytes: crypto.sha256(Array(value.utf8)))
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Random identifiers (user ids, client ids, family ids, jtis): 128 bits from the CSPRNG,
/// base64url, never starting with `-`. An operator types these ids as command-line
/// arguments (`tessera admin users show <id>`, `revoke --client <id>`), and one in 64 would
/// otherwise be taken for an option. A draw that starts with `-` is drawn again, which keeps
/// the rest uniform (about 127.98 bits).
public enum RandomIdentifier {
    public static func make(using crypto: some CryptoPrimitives) -> String {
        while true {
            let identifier = Base64URL.encode(crypto.randomBytes(16))
            if !identifier.hasPrefix("-") { return identifier }
        }
    }
}
