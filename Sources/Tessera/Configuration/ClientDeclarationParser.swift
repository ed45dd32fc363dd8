import Foundation
import TesseraCore

/// Reads the config file's `clients:` list:
///
/// ```yaml
/// clients:
///   - client_id: my-web-app
///     client_secret: "at least 32 characters of randomness"   # omit for a public client
///     name: My web app
///     redirect_uris: [https://app.example.com/callback]
///     post_logout_redirect_uris: [https://app.example.com/]
///     grants: [authorization_code, refresh_token]
///     scope: openid email profile offline_access
///     audience: https://api.example.com
///     auth_flows: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH]           # the Cognito API's flows
///     refresh_token_rotation: enabled                          # or disabled
///     retry_grace_seconds: 0                                   # 0-60
/// ```
enum ClientDeclarationParser {
    static let keys: Set<String> = ["client_id", "client_secret", "name", "redirect_uris", "post_logout_redirect_uris", "grants", "scope", "audience", "access_token_ttl",
                                     "auth_flows", "refresh_token_rotation", "retry_grace_seconds"]

    static func parse(_ value: Any, file: String) throws(ConfigurationError) -> [ClientDeclaration] {
        guard let list = value as? [Any] else { throw ConfigurationError("clients in config file \(file) must be a list") }
        var seen = Set<String>()
        var clients: [ClientDeclaration] = []
        for (index, item) in list.enumerated() {
            let place = "clients[\(index)] in config file \(file)"
            guard let entry = item as? [String: Any] else { throw ConfigurationError("\(place) must be a mapping") }
            if let unknown = entry.keys.sorted().first(where: { !keys.contains($0) }) {
                throw ConfigurationError("unknown key \"\(unknown)\" in \(place)")
            }
            guard let id = entry["client_id"] as? String, ClientDeclaration.isValidID(id), id != FirstPartyClient.id else {
                throw ConfigurationError("\(place): client_id must be 1-128 letters, digits, '.', '_' or '-' (and not \"tessera\")")
            }
            guard seen.insert(id).inserted else { throw ConfigurationError("\(place): client_id \(id) is declared twice") }
            let secret = entry["client_secret"] as? String
            if let secret, secret.count < 32 { throw ConfigurationError("\(place): client_secret must be at least 32 characters") }
            let redirects = try strings(entry["redirect_uris"], "redirect_uris", place)
            let logoutRedirects = try strings(entry["post_logout_redirect_uris"], "post_logout_redirect_uris", place)
            for uri in redirects + logoutRedirects where !ClientDeclaration.isValidRedirectURI(uri) {
                throw ConfigurationError("\(place): \(uri) is not an absolute https URL without fragment (http only on loopback)")
            }
            var grants = Set<GrantType>()
            for name in try strings(entry["grants"], "grants", place) {
                guard let grant = GrantType(rawValue: name) else { throw ConfigurationError("\(place): unknown grant \(name)") }
                grants.insert(grant)
            }
            if grants.isEmpty { throw ConfigurationError("\(place): grants must name at least one grant") }
            if grants.contains(.clientCredentials), secret == nil {
                throw ConfigurationError("\(place): client_credentials needs a client_secret")
            }
            if grants.contains(.authorizationCode), redirects.isEmpty {
                throw ConfigurationError("\(place): authorization_code needs redirect_uris")
            }
            guard let scope = Scope(parsing: entry["scope"] as? String ?? "") else { throw ConfigurationError("\(place): malformed scope") }
            var ttl: TimeInterval?
            if let value = entry["access_token_ttl"] {
                guard let seconds = (value as? Double) ?? (value as? Int).map(Double.init), Client.accessTokenTTLRange.contains(seconds) else {
                    throw ConfigurationError("\(place): access_token_ttl must be between 300 and 86400 seconds")
                }
                ttl = seconds
            }
            var declaration = ClientDeclaration(
                id: id, name: entry["name"] as? String ?? id, secret: secret, redirectURIs: redirects,
                postLogoutRedirectURIs: logoutRedirects, grants: grants, scope: scope, audience: entry["audience"] as? String,
                accessTokenTTL: ttl)
            declaration.cognito = try cognitoSettings(entry, place)
            clients.append(declaration)
        }
        return clients
    }

    /// `auth_flows`, `refresh_token_rotation` and `retry_grace_seconds` (contract §11.2).
    private static func cognitoSettings(_ entry: [String: Any], _ place: String) throws(ConfigurationError) -> CognitoAppSettings {
        var settings = CognitoAppSettings()
        if entry["auth_flows"] != nil {
            var flows = Set<CognitoAuthFlow>()
            for name in try strings(entry["auth_flows"], "auth_flows", place) {
                guard let flow = CognitoAuthFlow(rawValue: name) else {
                    throw ConfigurationError("\(place): unknown auth flow \(name): USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH or ADMIN_USER_PASSWORD_AUTH")
                }
                flows.insert(flow)
            }
            settings.authFlows = flows
        }
        if let rotation = entry["refresh_token_rotation"] {
            guard let text = rotation as? String, ["enabled", "disabled"].contains(text) else {
                throw ConfigurationError("\(place): refresh_token_rotation must be enabled or disabled")
            }
            settings.refreshRotation = text == "enabled"
        }
        if let grace = entry["retry_grace_seconds"] {
            guard let seconds = grace as? Int, CognitoAppSettings.retryGraceRange.contains(seconds) else {
                throw ConfigurationError("\(place): retry_grace_seconds must be an integer between 0 and 60")
            }
            settings.retryGraceSeconds = seconds
        }
        return settings
    }

    private static func strings(_ value: Any?, _ key: String, _ place: String) throws(ConfigurationError) -> [String] {
        guard let value else { return [] }
        if let single = value as? String { return [single] }
        guard let list = value as? [Any], let strings = list as? [String] else {
            throw ConfigurationError("\(place): \(key) must be a list of strings")
        }
        return strings
    }
}
