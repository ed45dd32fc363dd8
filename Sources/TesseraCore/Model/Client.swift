import Foundation

/// An OAuth 2.0 grant type a client may use.
public enum GrantType: String, Codable, Sendable, CaseIterable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    case clientCredentials = "client_credentials"
    case password
}

/// Who owns a client's registration.
public enum ClientSource: String, Sendable, Equatable {
    /// Registered with `tessera admin clients create`; the admin CLI manages it.
    case admin
    /// Declared in the config file, which owns it: it is kept in step with the file at each
    /// start, and the admin CLI refuses to change or delete it.
    case config
}

/// A registered OAuth client.
public struct Client: Sendable, Equatable {
    public var id: String
    public var name: String
    /// SHA-256 of the secret; nil for a public client.
    public var secretHash: TokenHash?
    /// Matched exactly: no prefix, no wildcard, no normalisation.
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    public var grants: Set<GrantType>
    /// What the client may ask for.
    public var scope: Scope
    /// `aud` of its access tokens; nil means the issuer (or `default_audience`).
    public var audience: String?
    /// Lifetime of its access and ID tokens in seconds (300–86400); nil: `access_token_ttl`.
    public var accessTokenTTL: TimeInterval?
    public var createdAt: Date
    public var source: ClientSource
    /// How the client may use the Cognito-compatible API (contract §11.2, §11.4).
    public var cognito: CognitoAppSettings

    /// The bounds of a per-client token lifetime, as for the server-wide setting.
    public static let accessTokenTTLRange: ClosedRange<TimeInterval> = 300...86400

    public init(
        id: String, name: String, secretHash: TokenHash?, redirectURIs: [String] = [], postLogoutRedirectURIs: [String] = [],
        grants: Set<GrantType>, scope: Scope, audience: String? = nil, accessTokenTTL: TimeInterval? = nil, createdAt: Date,
        source: ClientSource = .admin, cognito: CognitoAppSettings = CognitoAppSettings()
    ) {
        self.cognito = cognito
        self.source = source
        self.accessTokenTTL = accessTokenTTL
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.grants = grants
        self.scope = scope
        self.audience = audience
        self.createdAt = createdAt
    }

    /// A public client (no secret) authenticates with `none` and must use PKCE.
    public var isPublic: Bool { secretHash == nil }

    /// What the client gets when it asks for no scope: everything it is registered for but
    /// `account`, which it gets only by asking for it (contract §4).
    public var defaultScope: Scope {
        id == FirstPartyClient.id ? FirstPartyClient.defaultScope : userScope.removing(Scope.account)
    }

    /// What the client may hold on a user's behalf: its scope without the admin scopes, which
    /// only its own `client_credentials` tokens carry (contract §12.4).
    public var userScope: Scope {
        Scope(scope.tokens.filter { !AdminScope.isAdmin($0) })
    }
}

/// A client secret: 256 bits from the CSPRNG, base64url. Shown once; only its SHA-256 is kept.
public struct ClientSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(presented value: String) {
        self.value = value
    }

    public static func generate(using crypto: some CryptoPrimitives) -> ClientSecret {
        ClientSecret(presented: Base64URL.encode(crypto.randomBytes(32)))
    }

    public func hash(using crypto: some CryptoPrimitives) -> TokenHash {
        TokenHash(bytes: crypto.sha256(Array(value.utf8)))
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// A sign-in flow of the Cognito API (`ExplicitAuthFlowsType`), granted per client.
public enum CognitoAuthFlow: String, Sendable, CaseIterable, Codable {
    case userPassword = "USER_PASSWORD_AUTH"
    case userSRP = "USER_SRP_AUTH"
    case refreshToken = "REFRESH_TOKEN_AUTH"
    case adminUserPassword = "ADMIN_USER_PASSWORD_AUTH"
}

/// A client's settings for the Cognito-compatible API.
public struct CognitoAppSettings: Sendable, Equatable {
    /// The flows `InitiateAuth` and `AdminInitiateAuth` accept from the client.
    public var authFlows: Set<CognitoAuthFlow>
    /// Whether each use of a refresh token at the Cognito API rotates it (contract §11.4).
    public var refreshRotation: Bool
    /// Seconds (0–60) after a rotation during which the old token still answers.
    public var retryGraceSeconds: Int
    /// The client secret sealed (AES-256-GCM) for checking `SECRET_HASH`; nil for a public
    /// client, or one whose secret was set before the Cognito API existed.
    public var sealedSecret: [UInt8]?

    public static let defaultAuthFlows: Set<CognitoAuthFlow> = [.userSRP, .refreshToken]
    public static let retryGraceRange = 0...60

    public init(
        authFlows: Set<CognitoAuthFlow> = defaultAuthFlows, refreshRotation: Bool = true, retryGraceSeconds: Int = 0, sealedSecret: [UInt8]? = nil
    ) {
        self.authFlows = authFlows
        self.refreshRotation = refreshRotation
        self.retryGraceSeconds = retryGraceSeconds
        self.sealedSecret = sealedSecret
    }

    /// The context a client secret is sealed for.
    public static func sealingContext(clientID: String) -> String { "client-secret:\(clientID)" }
}
