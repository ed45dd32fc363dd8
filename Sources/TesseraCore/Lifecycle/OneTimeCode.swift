import Foundation

/// What a one-time code is for (contract §8.2).
public enum CodePurpose: String, Sendable, CaseIterable, Codable {
    case verifyEmail = "verify_email"
    case recover
    case addEmail = "add_email"
}

/// The key under which codes are hashed at rest (HMAC-SHA-256), kept in the keys dir.
public struct CodeSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A fresh secret from the CSPRNG (tests; the server loads its own from the keys dir).
    public static func generate(using crypto: some CryptoPrimitives) -> CodeSecret {
        CodeSecret(bytes: crypto.randomBytes(32))
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// A one-time code: `code_length` decimal digits from the CSPRNG. Only its keyed hash is
/// stored, bound to one user, purpose and address, so a code for one never verifies another.
public struct OneTimeCode: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The digits, for the mail that carries them.
    public let digits: String

    public static let lengths = 6...10

    /// A new code of `length` digits, each uniform: bytes of 250 and above are drawn again.
    public static func generate(length: Int, using crypto: some CryptoPrimitives) -> OneTimeCode {
        var digits = ""
        while digits.count < length {
            for byte in crypto.randomBytes(length) where byte < 250 && digits.count < length {
                digits.append(Character(Unicode.Scalar(UInt8(ascii: "0") + byte % 10)))
            }
        }
        return OneTimeCode(digits: digits)
    }

    private init(digits: String) {
        self.digits = digits
    }

    /// A code as a user typed it: spaces are ignored; nil unless what is left is 6 to 10 ASCII
    /// digits (anything else cannot be a code, and is refused as a wrong one).
    public init?(presented: String) {
        let digits = presented.filter { $0 != " " }
        guard Self.lengths.contains(digits.utf8.count), digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        self.digits = digits
    }

    /// The stored form: HMAC-SHA-256 under `secret` of the purpose, user, address and digits.
    public func hash(secret: CodeSecret, userID: String, purpose: CodePurpose, emailKey: String, using crypto: some CryptoPrimitives) -> [UInt8] {
        let message = [purpose.rawValue, userID, emailKey, digits].joined(separator: "\n")
        return crypto.hmacSHA256(key: secret.bytes, Array(message.utf8))
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
