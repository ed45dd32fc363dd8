import Foundation

/// An RFC 5322 mailbox: an optional display name and an address (`mail_from`).
public struct Mailbox: Sendable, Equatable, CustomStringConvertible {
    public var displayName: String?
    /// The addr-spec, as the envelope carries it.
    public var address: String

    public init(displayName: String?, address: String) {
        self.displayName = displayName
        self.address = address
    }

    /// Parses `Name <local@domain>`, `"Name" <local@domain>` or `local@domain`. Nil for
    /// anything else, and always for CR, LF or other control characters (header injection).
    public init?(parsing raw: String) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
        guard text.hasSuffix(">"), let open = text.lastIndex(of: "<") else {
            guard let address = EmailAddress(text) else { return nil }
            self.init(displayName: nil, address: address.display)
            return
        }
        guard let address = EmailAddress(String(text[text.index(after: open)..<text.index(before: text.endIndex)])) else { return nil }
        var name = text[..<open].trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        guard !name.contains("\""), !name.contains("\\"), !name.contains("<"), !name.contains(">") else { return nil }
        self.init(displayName: name.isEmpty ? nil : name, address: address.display)
    }

    public var description: String {
        guard let displayName else { return address }
        return "\(displayName) <\(address)>"
    }
}
