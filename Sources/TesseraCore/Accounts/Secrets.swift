import Foundation

/// A password as typed, normalised (NFKC) and checked by ``PasswordPolicy``.
/// Its description is redacted so it can never reach a log by accident.
public struct Password: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The normalised text.
    public let text: String

    init(normalized text: String) {
        self.text = text
    }

    /// bcrypt reads at most 72 bytes. Rather than truncate silently, a longer password is
    /// pre-hashed: bcrypt's input becomes base64(SHA-256(password)), 44 bytes. The choice
    /// depends only on the password's length, so verification needs no stored marker, and
    /// two long passwords sharing their first 72 bytes stay different passwords.
    public func bcryptInput(using crypto: some CryptoPrimitives) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > PasswordPolicy.bcryptMaximumBytes else { return text }
        return Data(crypto.sha256(bytes)).base64EncodedString()
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
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

    /// Wraps a token presented by a client; nil unless it has the shape of one.
    public init?(presented value: String) {
        guard value.hasPrefix(Self.prefix), value.utf8.count == Self.prefix.utf8.count + 43,
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
