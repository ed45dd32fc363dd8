import Foundation
import Logging

/// The first-party account API (contract §4): sign-up with hooks, password login, refresh
/// rotation with reuse detection, logout, and bearer-token authentication.
public struct AccountService: Sendable {
    public typealias Store = UserStore & RefreshTokenStore & RevocationStore

    let settings: Settings
    let store: any Store
    let hasher: any PasswordHasher
    let throttle: LoginThrottle
    public let issuer: TokenIssuer
    let crypto: any CryptoPrimitives
    let hooks: Hooks
    /// The built-in first-party client and the registry.
    public let clients: ClientRegistry
    /// Checks access tokens presented as bearer tokens.
    public let accessTokens: AccessTokenValidator
    public let now: Now
    let logger: Logger
    /// Called after a sign-up commits, to start its post-sign-up hooks without waiting.
    let userCreated: @Sendable () -> Void

    public init(
        settings: Settings, store: any Store, hasher: any PasswordHasher, throttle: LoginThrottle,
        signer: any TokenSigner, verifier: any TokenVerifier, crypto: any CryptoPrimitives, hooks: Hooks,
        clients: ClientRegistry, now: @escaping Now, logger: Logger, userCreated: @escaping @Sendable () -> Void = {}
    ) {
        self.clients = clients
        self.accessTokens = AccessTokenValidator(settings: settings, verifier: verifier, store: store, now: now)
        self.settings = settings
        self.store = store
        self.hasher = hasher
        self.throttle = throttle
        self.issuer = TokenIssuer(settings: settings, signer: signer, crypto: crypto)
        self.crypto = crypto
        self.hooks = hooks
        self.now = now
        self.logger = logger
        self.userCreated = userCreated
    }

    // MARK: Sign-up

    /// Checks the input, runs the pre-sign-up hooks, hashes the password and stores the user
    /// with its post-sign-up hook runs in one transaction.
    public func signUp(email rawEmail: String, password rawPassword: String, attributes: [String: String]) async throws -> User {
        guard let email = EmailAddress(rawEmail) else { throw AccountError.invalidEmail }
        let password = try PasswordPolicy.validate(rawPassword)
        try Self.checkAttributes(attributes)
        var attempt = SignUpAttempt(email: email.display, attributes: attributes, confirmed: true)
        for hook in hooks.preSignUp {
            let decision: PreSignUpDecision
            do {
                let current = attempt
                decision = try await withTimeout(seconds: settings.hookTimeout) { try await hook.beforeSignUp(current) }
            } catch {
                logger.error("pre-sign-up hook failed", metadata: ["hook": "\(hook.name)", "error": "\(error is TimeoutError ? "timeout" : String(describing: type(of: error)))"])
                throw AccountError.hookFailed
            }
            switch decision {
            case .reject(let reason):
                logger.info("sign-up rejected by hook", metadata: ["hook": "\(hook.name)"])
                throw AccountError.signupRejected(reason)
            case .allow(let adjusted):
                try Self.checkAttributes(adjusted.attributes)
                attempt = SignUpAttempt(email: attempt.email, attributes: adjusted.attributes, confirmed: adjusted.confirmed)
            }
        }
        let hash = try await hasher.hash(password.bcryptInput(using: crypto), cost: settings.bcryptCost)
        let now = now()
        let user = User(
            id: RandomIdentifier.make(using: crypto), email: email.display, emailVerified: false, passwordHash: hash,
            status: attempt.confirmed ? .active : .unconfirmed, attributes: attempt.attributes, createdAt: now, updatedAt: now)
        do {
            try await store.createUser(user, postSignUpHooks: hooks.postSignUp.map(\.name), now: now)
        } catch StorageError.alreadyExists {
            throw AccountError.emailTaken
        }
        logger.info("user signed up", metadata: ["user.id": "\(user.id)"])
        if !hooks.postSignUp.isEmpty { userCreated() }
        return user
    }

    /// Attribute names and values are bounded: 50 entries, names of 1–64 and values of at most
    /// 2048 characters.
    static func checkAttributes(_ attributes: [String: String]) throws(AccountError) {
        guard attributes.count <= 50 else { throw .invalidRequest("at most 50 attributes") }
        for (name, value) in attributes {
            guard (1...64).contains(name.count) else { throw .invalidRequest("attribute names must be 1 to 64 characters") }
            guard value.count <= 2048 else { throw .invalidRequest("attribute \(name) is longer than 2048 characters") }
        }
    }

    // MARK: Login

    /// Throws ``AccountError/busy(retryAfter:)`` while the password pool is full, so that a
    /// login storm is shed before its bodies are parsed (the pool still admits each hash on
    /// its own; this only saves the work of requests that would be refused anyway).
    public func shedLoginIfBusy() throws(AccountError) {
        if hasher.isSaturated { throw .busy(retryAfter: 1) }
    }

    /// Password login (`/v1/login`) for the first-party client, or for a registered client
    /// named by `clientID` that is registered for the password grant.
    public func login(email: String, password: String, clientID: String?, scope requested: String?, clientIP: String) async throws -> IssuedTokens {
        guard let client = try await clients.client(id: clientID ?? FirstPartyClient.id), client.grants.contains(.password) else {
            throw AccountError.invalidClient("unknown client or not registered for the password grant")
        }
        return try await passwordGrant(client: client, email: email, password: password, scope: requested, clientIP: clientIP, withRefreshToken: true)
    }

    /// Checks an email and password as `/v1/login` does (limits, constant-cost verification,
    /// status), for the hosted login page. Returns the user.
    public func verifyPassword(email rawEmail: String, password rawPassword: String, clientIP: String) async throws -> User {
        let now = now()
        try throttle.admitAttempt(fromIP: clientIP, now: now)
        let key = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        try throttle.checkAccount(key, now: now)
        let user = EmailAddress(rawEmail) == nil ? nil : try await store.user(email: key)
        let password = PasswordPolicy.presented(rawPassword)
        let hash = user?.passwordHash ?? hasher.unmatchableHash(cost: settings.bcryptCost)
        let matches = try await hasher.verify(password?.bcryptInput(using: crypto) ?? "", against: hash)
        guard matches, let user, let password else {
            throttle.recordFailure(key, now: now)
            logger.info("login failed", metadata: ["reason": "\(user == nil ? "unknown email" : "wrong password")"])
            throw AccountError.invalidCredentials
        }
        throttle.recordSuccess(key)
        switch user.status {
        case .active: break
        case .disabled: throw AccountError.userDisabled
        case .unconfirmed: throw AccountError.userUnconfirmed
        }
        rehashIfCostChanged(user: user, password: password, hash: hash)
        return user
    }

    /// The resource-owner password grant for an (authenticated) client: checks the scope,
    /// the limits and the password, then issues tokens, with a refresh token when asked.
    public func passwordGrant(
        client: Client, email rawEmail: String, password rawPassword: String, scope requested: String?, clientIP: String, withRefreshToken: Bool
    ) async throws -> IssuedTokens {
        let defaultScope = client.id == FirstPartyClient.id ? FirstPartyClient.defaultScope : client.scope
        let scope = try Self.grantedScope(requested, allowed: client.scope, default: defaultScope)
        let user = try await verifyPassword(email: rawEmail, password: rawPassword, clientIP: clientIP)
        let now = now()
        let audience = clients.audience(for: client)
        guard withRefreshToken else {
            return try issuer.issue(user: user, clientID: client.id, audience: audience, scope: scope, authTime: now, lifetime: client.accessTokenTTL, now: now)
        }
        return try await startFamily(
            user: user, clientID: client.id, audience: audience, scope: scope, authTime: now, lifetime: client.accessTokenTTL, now: now)
    }

    /// Issues tokens for a fresh login and stores the first refresh token of a new family.
    /// `familyID` and `jti` may be chosen beforehand (the code grant records them first).
    public func startFamily(
        user: User, clientID: String, audience: String, scope: Scope, authTime: Date, nonce: String? = nil,
        familyID: String? = nil, jti: String? = nil, lifetime: TimeInterval? = nil, now: Date
    ) async throws -> IssuedTokens {
        var tokens = try issuer.issue(
            user: user, clientID: clientID, audience: audience, scope: scope, authTime: authTime, nonce: nonce, jti: jti, lifetime: lifetime, now: now)
        let refresh = RefreshToken.generate(using: crypto)
        let family = RefreshTokenFamily(
            id: familyID ?? RandomIdentifier.make(using: crypto), userID: user.id, clientID: clientID, scope: scope.description,
            authTime: authTime, createdAt: now, expiresAt: now.addingTimeInterval(settings.refreshTokenTTL))
        try await store.createFamily(family, firstToken: refresh.hash(using: crypto), now: now)
        tokens.refreshToken = refresh
        tokens.refreshExpiresAt = family.expiresAt
        logger.info("login", metadata: ["user.id": "\(user.id)", "client.id": "\(clientID)", "grant.family": "\(family.id)"])
        return tokens
    }

    /// The scope to grant: the requested one (or `defaultScope`), refused if it asks for more
    /// than `allowed`.
    static func grantedScope(_ requested: String?, allowed: Scope, default defaultScope: Scope) throws(AccountError) -> Scope {
        guard let requested else { return defaultScope }
        guard let scope = Scope(parsing: requested) else { throw .invalidScope("malformed scope") }
        guard scope.isSubset(of: allowed) else { throw .invalidScope("scope exceeds what the client may request") }
        return scope
    }

    /// After a successful login with a hash of another cost, replaces it at the configured
    /// cost, in the background (the login does not wait).
    private func rehashIfCostChanged(user: User, password: Password, hash: String) {
        guard let cost = hasher.cost(of: hash), cost != settings.bcryptCost else { return }
        let (hasher, store, crypto, settings, logger, now) = (hasher, store, crypto, settings, logger, now)
        Task {
            do {
                let rehashed = try await hasher.hash(password.bcryptInput(using: crypto), cost: settings.bcryptCost)
                try await store.updatePasswordHash(userID: user.id, hash: rehashed, now: now())
                logger.info("password rehashed", metadata: ["user.id": "\(user.id)", "bcrypt.cost": "\(settings.bcryptCost)"])
            } catch {
                logger.warning("password rehash skipped", metadata: ["user.id": "\(user.id)", "error": "\(error)"])
            }
        }
    }

    // MARK: Refresh and logout

    /// Rotates a refresh token. Reuse of a rotated token revokes its whole family. With
    /// `client` (the one the token endpoint authenticated), a token of another client is
    /// refused, and the client is not read again to issue the access token.
    public func refresh(_ presented: String, client authenticated: Client? = nil, scope requested: String? = nil) async throws -> IssuedTokens {
        guard let token = RefreshToken(presented: presented) else { throw AccountError.invalidGrant(reason: "malformed token") }
        let now = now()
        if requested != nil, let family = try await store.family(containing: token.hash(using: crypto)) {
            // Refuse a widening before the token is spent (a family's scope never changes).
            _ = try Self.grantedScope(requested, allowed: Scope(parsing: family.scope) ?? Scope([]), default: Scope([]))
        }
        let successor = RefreshToken.generate(using: crypto)
        // The access token is signed while the rotation commits; it leaves only after.
        let answer = try await store.rotate(
            token.hash(using: crypto), successor: successor.hash(using: crypto), clientID: authenticated?.id, now: now
        ) { outcome -> RotationAnswer in
            switch outcome {
            case .refused(let reason):
                return .refused(reason: reason)
            case .reused(let familyID):
                return .reused(familyID: familyID)
            case .rotated(let family, let user):
                let granted = Scope(parsing: family.scope) ?? Scope([])
                // RFC 6749 §6: a refresh may narrow the scope, never widen it.
                let scope = try Self.grantedScope(requested, allowed: granted, default: granted)
                let client: Client? = if let authenticated { authenticated } else { try await clients.client(id: family.clientID) }
                let audience = client.map(clients.audience(for:)) ?? settings.firstPartyAudience
                var tokens = try issuer.issue(
                    user: user, clientID: family.clientID, audience: audience, scope: scope, authTime: family.authTime,
                    lifetime: client?.accessTokenTTL, now: now)
                tokens.refreshToken = successor
                tokens.refreshExpiresAt = family.expiresAt
                return .issued(tokens)
            }
        }
        switch answer {
        case .issued(let tokens):
            return tokens
        case .refused(let reason):
            throw AccountError.invalidGrant(reason: reason)
        case .reused(let familyID):
            logger.warning("refresh token reuse: family revoked", metadata: ["grant.family": "\(familyID)"])
            throw AccountError.invalidGrant(reason: "reuse detected")
        }
    }

    /// What a rotation led to, decided while it commits and acted on once it has.
    private enum RotationAnswer {
        case issued(IssuedTokens)
        case refused(reason: String)
        case reused(familyID: String)
    }

    /// Revokes the family of a refresh token; a missing or unknown token is not an error.
    public func logout(_ presented: String?) async throws {
        guard let presented, let token = RefreshToken(presented: presented) else { return }
        if try await store.revokeFamily(containing: token.hash(using: crypto), reason: "logout", now: now()) {
            logger.info("logout")
        }
    }

    // MARK: Bearer tokens

    /// Verifies a first-party access token (audience: the issuer or `default_audience`) and
    /// checks it has not been revoked; the user must be a user, not a client.
    public func authenticate(bearer token: String) async throws -> (User, AccessTokenClaims) {
        let validated = try await accessTokens.validate(token, audience: settings.firstPartyAudience)
        guard let user = validated.user else { throw BearerError.invalidToken(reason: "not a user token") }
        return (user, validated.claims)
    }
}

/// A bearer token was refused (RFC 6750 §3.1). The reason is only logged.
public enum BearerError: Error, Equatable, Sendable {
    case missing
    case invalidToken(reason: String)
}
