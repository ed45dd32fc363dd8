import Foundation

/// A client declared in the config file's `clients:` list, registered (or updated) at start.
public struct ClientDeclaration: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Plain text in the config file; only its SHA-256 reaches the database. Nil: public client.
    public var secret: String?
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    public var grants: Set<GrantType>
    public var scope: Scope
    public var audience: String?
    public var accessTokenTTL: TimeInterval?
    /// Its Cognito API settings (`auth_flows`, `refresh_token_rotation`, `retry_grace_seconds`).
    public var cognito = CognitoAppSettings()

    public init(id: String, name: String, secret: String?, redirectURIs: [String], postLogoutRedirectURIs: [String], grants: Set<GrantType>, scope: Scope, audience: String?, accessTokenTTL: TimeInterval? = nil) {
        self.accessTokenTTL = accessTokenTTL
        self.id = id
        self.name = name
        self.secret = secret
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.grants = grants
        self.scope = scope
        self.audience = audience
    }

    /// The registry entry, with the secret hashed.
    public func client(using crypto: some CryptoPrimitives, now: Date) -> Client {
        Client(
            id: id, name: name, secretHash: secret.map { ClientSecret(presented: $0).hash(using: crypto) },
            redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogoutRedirectURIs, grants: grants, scope: scope,
            audience: audience, accessTokenTTL: accessTokenTTL, createdAt: now, source: .config, cognito: cognito)
    }

    /// Client ids: 1–128 of letters, digits, `.`, `_`, `-`.
    public static func isValidID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// Redirect URIs are absolute, without fragment (RFC 6749 §3.1.2); http only on loopback.
    public static func isValidRedirectURI(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty, components.fragment == nil
        else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host.lowercased())
    }
}
