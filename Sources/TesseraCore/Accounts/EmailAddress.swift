import Foundation

/// An email address as the user typed it, checked for syntax, with the key that makes
/// uniqueness case-insensitive (`A@x.io` and `a@X.IO` are one account).
public struct EmailAddress: Sendable, Equatable {
    /// As typed (surrounding whitespace removed), for display.
    public let display: String
    /// Lower-cased, for lookup and uniqueness.
    public let key: String

    public static let maximumLength = 254

    /// Nil unless `raw` is an address of the common form `local@domain.tld`: an unquoted
    /// local part of at most 64 ASCII characters (letters, digits and ``!#$%&'*+/=?^_`{|}~.-``,
    /// dots not leading, trailing or doubled) and a domain of at least two labels of letters,
    /// digits and inner hyphens.
    public init?(_ raw: String) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard text.utf8.count <= Self.maximumLength, text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isLocalPart(parts[0]), Self.isDomain(parts[1]) else { return nil }
        display = text
        key = text.lowercased()
    }

    private static let localSymbols = Set("!#$%&'*+/=?^_`{|}~.-".utf8)

    private static func isLocalPart(_ local: Substring) -> Bool {
        guard (1...64).contains(local.utf8.count), local.first != ".", local.last != ".", !local.contains("..") else { return false }
        return local.utf8.allSatisfy { isAlphanumeric($0) || localSymbols.contains($0) }
    }

    private static func isDomain(_ domain: Substring) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        } && labels.last!.utf8.allSatisfy { !($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
