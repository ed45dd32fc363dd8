/// A set of scope tokens (RFC 6749 §3.3), kept in the order first given.
public struct Scope: Sendable, Equatable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public init(_ tokens: [String]) {
        var seen = Set<String>()
        self.tokens = tokens.filter { seen.insert($0).inserted }
    }

    /// Parses a space-delimited scope string; nil if a token has characters RFC 6749 §3.3
    /// does not allow (`%x21 / %x23-5B / %x5D-7E`).
    public init?(parsing text: String) {
        let tokens = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard tokens.allSatisfy({ token in
            token.unicodeScalars.allSatisfy { $0.value == 0x21 || (0x23...0x5B).contains($0.value) || (0x5D...0x7E).contains($0.value) }
        }) else { return nil }
        self.init(tokens)
    }

    public func contains(_ token: String) -> Bool { tokens.contains(token) }

    /// Whether the space-delimited scope `text` (of a token Tessera signed, so already well
    /// formed) holds `token`: a scan of its bytes, without building a ``Scope``. Checked on every
    /// use of an access token at `/v1/me` and introspection.
    public static func text(_ text: String, contains token: String) -> Bool {
        var text = text
        var token = token
        return text.withUTF8 { haystack in
            token.withUTF8 { needle in
                var start = 0
                while start <= haystack.count {
                    var end = start
                    while end < haystack.count, haystack[end] != UInt8(ascii: " ") { end += 1 }
                    if end - start == needle.count, haystack[start..<end].elementsEqual(needle) { return true }
                    start = end + 1
                }
                return false
            }
        }
    }

    public func isSubset(of other: Scope) -> Bool { tokens.allSatisfy(other.contains) }

    /// The space-delimited form.
    public var description: String { tokens.joined(separator: " ") }

    public static let openID = "openid"
    public static let email = "email"
    public static let profile = "profile"
    public static let offlineAccess = "offline_access"
    /// The user's own account API (`/v1/me` and below), like Cognito's
    /// `aws.cognito.signin.user.admin`: first-party tokens always carry it; another client only
    /// when registered with it and asking for it.
    public static let account = "account"
    /// The user's groups as the `groups` claim of access and ID tokens (contract §11.5).
    public static let groups = "groups"

    /// `self` without `token`.
    public func removing(_ token: String) -> Scope { Scope(tokens.filter { $0 != token }) }

    /// `self` with `token` added at the end (unless already there).
    public func adding(_ token: String) -> Scope { Scope(tokens + [token]) }
}
