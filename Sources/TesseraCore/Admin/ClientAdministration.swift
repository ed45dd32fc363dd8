import Foundation

/// What a new client is registered with (`tessera admin clients create`, `POST /admin/v1/clients`).
public struct ClientSpecification: Sendable {
    public var name: String
    public var redirectURIs: [String] = []
    public var postLogoutRedirectURIs: [String] = []
    public var isPublic = false
    /// Empty: `authorization_code` and `refresh_token` with redirect URIs, else `client_credentials`.
    public var grants: [String] = []
    public var scope = "openid email profile offline_access"
    public var audience: String?
    public var accessTokenTTL: Double?
    /// Empty: the Cognito API's default flows.
    public var authFlows: [String] = []
    public var refreshTokenRotation = "enabled"
    public var retryGraceSeconds = 0

    public init(name: String) {
        self.name = name
    }

    /// The first problem with it, as the CLI and the API word it.
    public func problem() -> String? {
        guard (1...200).contains(name.count) else { return "name must be 1 to 200 characters" }
        for uri in redirectURIs + postLogoutRedirectURIs where !ClientDeclaration.isValidRedirectURI(uri) {
            return "\(uri) is not an absolute https URL without fragment (http only on loopback)"
        }
        for grant in grants where GrantType(rawValue: grant) == nil { return "unknown grant \(grant)" }
        guard Scope(parsing: scope) != nil else { return "malformed scope" }
        if let accessTokenTTL, !Client.accessTokenTTLRange.contains(accessTokenTTL) { return "access_token_ttl must be between 300 and 86400" }
        for flow in authFlows where CognitoAuthFlow(rawValue: flow) == nil {
            return "unknown auth flow \(flow): USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH or ADMIN_USER_PASSWORD_AUTH"
        }
        guard ["enabled", "disabled"].contains(refreshTokenRotation) else { return "refresh_token_rotation must be enabled or disabled" }
        guard CognitoAppSettings.retryGraceRange.contains(retryGraceSeconds) else { return "retry_grace_seconds must be between 0 and 60" }
        return nil
    }
}

/// A change to a registered client, as a JSON merge patch (RFC 7396) gives it: a field left
/// nil stays as it is; `audience` and `accessTokenTTL` set to `.some(nil)` are removed.
/// Whether a client is public cannot change (its secret would have to appear or vanish).
public struct ClientChanges: Sendable {
    public var name: String?
    public var redirectURIs: [String]?
    public var postLogoutRedirectURIs: [String]?
    public var grants: [String]?
    public var scope: String?
    public var audience: String??
    public var accessTokenTTL: Double??
    public var authFlows: [String]?
    public var refreshTokenRotation: String?
    public var retryGraceSeconds: Int?

    public init() {}

    /// The wire names of the fields it changes (the audit entry's details).
    public var fieldNames: [String] {
        [
            name.map { _ in "name" }, redirectURIs.map { _ in "redirect_uris" }, postLogoutRedirectURIs.map { _ in "post_logout_redirect_uris" },
            grants.map { _ in "grants" }, scope.map { _ in "scope" }, audience.map { _ in "audience" }, accessTokenTTL.map { _ in "access_token_ttl" },
            authFlows.map { _ in "auth_flows" }, refreshTokenRotation.map { _ in "refresh_token_rotation" },
            retryGraceSeconds.map { _ in "retry_grace_seconds" },
        ].compactMap { $0 }
    }

    /// `client` changed, checked by the rules a new client is checked by.
    func applied(to client: Client) throws -> Client {
        var specification = ClientSpecification(name: name ?? client.name)
        specification.redirectURIs = redirectURIs ?? client.redirectURIs
        specification.postLogoutRedirectURIs = postLogoutRedirectURIs ?? client.postLogoutRedirectURIs
        specification.isPublic = client.isPublic
        specification.grants = grants ?? client.grants.map(\.rawValue)
        specification.scope = scope ?? client.scope.description
        specification.audience = audience ?? client.audience
        specification.accessTokenTTL = accessTokenTTL ?? client.accessTokenTTL
        specification.authFlows = authFlows ?? client.cognito.authFlows.map(\.rawValue)
        specification.refreshTokenRotation = refreshTokenRotation ?? (client.cognito.refreshRotation ? "enabled" : "disabled")
        specification.retryGraceSeconds = retryGraceSeconds ?? client.cognito.retryGraceSeconds
        if let problem = specification.problem() { throw AdminFailure.invalid(problem) }
        if let authFlows, authFlows.isEmpty { throw AdminFailure.invalid("auth_flows needs at least one flow") }
        if let audience = specification.audience, audience.isEmpty { throw AdminFailure.invalid("audience must not be empty (null removes it)") }
        let grants = Set(specification.grants.compactMap(GrantType.init(rawValue:)))
        if let problem = ClientAdministration.grantProblem(grants, redirectURIs: specification.redirectURIs, isPublic: client.isPublic) {
            throw AdminFailure.invalid(problem)
        }
        var changed = client
        changed.name = specification.name
        changed.redirectURIs = specification.redirectURIs
        changed.postLogoutRedirectURIs = specification.postLogoutRedirectURIs
        changed.grants = grants
        changed.scope = Scope(parsing: specification.scope)!
        changed.audience = specification.audience
        changed.accessTokenTTL = specification.accessTokenTTL
        changed.cognito.authFlows = Set(specification.authFlows.compactMap(CognitoAuthFlow.init(rawValue:)))
        changed.cognito.refreshRotation = specification.refreshTokenRotation == "enabled"
        changed.cognito.retryGraceSeconds = specification.retryGraceSeconds
        return changed
    }
}

/// The administrative actions on registered clients: one implementation for the admin CLI
/// (`tessera admin clients …`) and the admin HTTP API (`/admin/v1/clients`). Clients the
/// config file declares are its own: they can be read here, never changed.
public struct ClientAdministration: Sendable {
    public typealias Store = ClientStore & AuditLog

    let store: any Store
    let sealer: any SecretSealer
    let crypto: any CryptoPrimitives
    let now: Now

    public init(store: any Store, sealer: any SecretSealer, crypto: any CryptoPrimitives, now: @escaping Now = { Date() }) {
        self.store = store
        self.sealer = sealer
        self.crypto = crypto
        self.now = now
    }

    public func list() async throws -> [Client] {
        try await store.listClients()
    }

    public func client(_ id: String) async throws -> Client {
        guard let found = try await store.client(id: id) else { throw AdminFailure.notFound("no client \(id)") }
        return found
    }

    /// The client, when it may be changed here (registered by an admin, not the config file).
    public func managedClient(_ id: String) async throws -> Client {
        let found = try await client(id)
        guard found.source == .admin else {
            throw AdminFailure.conflict("client \(id) is declared in the config file: edit its entry there and restart tessera")
        }
        return found
    }

    /// Registers a client; returns it and its secret (confidential clients), shown only now.
    public func create(_ specification: ClientSpecification, actor: String) async throws -> (Client, ClientSecret?) {
        if let problem = specification.problem() { throw AdminFailure.invalid(problem) }
        var grants = Set(specification.grants.compactMap(GrantType.init(rawValue:)))
        if grants.isEmpty { grants = specification.redirectURIs.isEmpty ? [.clientCredentials] : [.authorizationCode, .refreshToken] }
        if let problem = Self.grantProblem(grants, redirectURIs: specification.redirectURIs, isPublic: specification.isPublic) {
            throw AdminFailure.invalid(problem)
        }
        let secret = specification.isPublic ? nil : ClientSecret.generate(using: crypto)
        let id = RandomIdentifier.make(using: crypto)
        let now = now()
        let client = Client(
            id: id, name: specification.name, secretHash: secret?.hash(using: crypto), redirectURIs: specification.redirectURIs,
            postLogoutRedirectURIs: specification.postLogoutRedirectURIs, grants: grants, scope: Scope(parsing: specification.scope)!,
            audience: specification.audience, accessTokenTTL: specification.accessTokenTTL, createdAt: now,
            cognito: CognitoAppSettings(
                authFlows: specification.authFlows.isEmpty
                    ? CognitoAppSettings.defaultAuthFlows : Set(specification.authFlows.compactMap(CognitoAuthFlow.init(rawValue:))),
                refreshRotation: specification.refreshTokenRotation == "enabled", retryGraceSeconds: specification.retryGraceSeconds,
                sealedSecret: try secret.map { try seal($0, clientID: id) }))
        try await store.createClient(client, now: now)
        try await store.recordAdminAction(actor: actor, action: "clients.create", target: "client \(client.id)", details: nil, now: now)
        return (client, secret)
    }

    /// What the grants need of the rest of the client.
    static func grantProblem(_ grants: Set<GrantType>, redirectURIs: [String], isPublic: Bool) -> String? {
        if grants.isEmpty { return "a client needs at least one grant" }
        if grants.contains(.authorizationCode), redirectURIs.isEmpty { return "authorization_code needs a redirect URI" }
        if grants.contains(.clientCredentials), isPublic { return "a public client cannot use client_credentials" }
        return nil
    }

    /// Applies `changes` to an admin-registered client, only if `ifMatch` (an `If-Match` field
    /// value) holds for its current ``etag(_:)`` — checked and written in one transaction, so
    /// of two changes made from one read, one wins and the other is refused. Tokens already
    /// issued keep what they were issued with; the next ones follow the change.
    public func update(_ id: String, ifMatch: String?, changes: ClientChanges, actor: String) async throws -> Client {
        guard let ifMatch else { throw AdminFailure.preconditionRequired("send If-Match with the client's current ETag (from GET)") }
        let crypto = crypto
        let outcome = try await store.updateClient(id: id, now: now()) { current in
            guard current.source == .admin else {
                throw AdminFailure.conflict("client \(id) is declared in the config file: edit its entry there and restart tessera")
            }
            guard let holds = ProfileETag.ifMatch(ifMatch, holdsFor: Self.etag(current, crypto: crypto)) else {
                throw AdminFailure.invalid("If-Match is not a list of entity tags or *")
            }
            guard holds else { return nil }
            return try changes.applied(to: current)
        }
        switch outcome {
        case .updated(let client):
            try await store.recordAdminAction(
                actor: actor, action: "clients.update", target: "client \(id)", details: changes.fieldNames.joined(separator: ", "), now: now())
            return client
        case .refused(let current):
            throw AdminFailure.preconditionFailed("client \(id) changed since it was read; read it again", currentETag: Self.etag(current, crypto: crypto))
        case .notFound:
            throw AdminFailure.notFound("no client \(id)")
        }
    }

    /// The client's entity tag: a digest of what ``json(_:)`` shows, so it changes exactly
    /// when the representation does.
    public static func etag(_ client: Client, crypto: any CryptoPrimitives) -> String {
        let shown = (try? JSONSerialization.data(withJSONObject: json(client), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return "\"c" + Hex.encode(crypto.sha256(Array(shown)).prefix(16)) + "\""
    }

    public func etag(_ client: Client) -> String {
        Self.etag(client, crypto: crypto)
    }

    /// Deletes an admin-registered client and revokes its tokens.
    public func delete(_ id: String, actor: String) async throws {
        _ = try await managedClient(id)
        try await store.deleteClient(id: id, now: now())
        try await store.recordAdminAction(actor: actor, action: "clients.delete", target: "client \(id)", details: nil, now: now())
    }

    /// A new secret for a confidential client; the old one stops working at once.
    public func rotateSecret(_ id: String, actor: String) async throws -> ClientSecret {
        let client = try await managedClient(id)
        guard !client.isPublic else { throw AdminFailure.invalid("client \(id) is public: it has no secret") }
        let secret = ClientSecret.generate(using: crypto)
        try await store.replaceClientSecret(id: id, hash: secret.hash(using: crypto), sealed: try seal(secret, clientID: id), now: now())
        try await store.recordAdminAction(actor: actor, action: "clients.rotate-secret", target: "client \(id)", details: nil, now: now())
        return secret
    }

    /// The secret sealed for the Cognito API's `SECRET_HASH` (contract §11.2).
    private func seal(_ secret: ClientSecret, clientID: String) throws -> [UInt8] {
        try sealer.seal(Array(secret.value.utf8), context: CognitoAppSettings.sealingContext(clientID: clientID))
    }

    /// The CLI's `clients show --json` shape (never the secret).
    public static func json(_ client: Client) -> [String: Any] {
        var json: [String: Any] = [
            "client_id": client.id, "name": client.name, "public": client.isPublic, "redirect_uris": client.redirectURIs,
            "post_logout_redirect_uris": client.postLogoutRedirectURIs, "grants": client.grants.map(\.rawValue).sorted(),
            "scope": client.scope.description, "created_at": UserAdministration.timestamp(client.createdAt), "source": client.source.rawValue,
        ]
        json["audience"] = client.audience
        json["access_token_ttl"] = client.accessTokenTTL
        json["auth_flows"] = client.cognito.authFlows.map(\.rawValue).sorted()
        json["refresh_token_rotation"] = client.cognito.refreshRotation ? "enabled" : "disabled"
        json["retry_grace_seconds"] = client.cognito.retryGraceSeconds
        return json
    }
}
