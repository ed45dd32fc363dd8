import Foundation
import Logging

/// The first-party account API (contract §4): sign-up with hooks, password login, refresh
/// rotation with reuse detection, logout, and bearer-token authentication.
public struct AccountService: Sendable {
    public typealias Store = UserStore & RefreshTokenStore & RevocationStore & EventLog & GroupStore & UserImportStore

    let settings: Settings
    let store: any Store
    let hasher: any PasswordHasher
    let passwords: PasswordHashing
    let throttle: LoginThrottle
    /// Sign-ups per client IP (`signup_ip_rate`, bursts of ``signUpBurst``).
    let signUps: AddressLimiter
    /// The costs stored hashes have, for the dummy hash of unknown emails.
    let costs: PasswordCosts
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
    /// Builds the verification code every sign-up mails.
    let lifecycleMail: LifecycleMail
    /// Called after mail was queued, to wake the courier.
    let mailQueued: @Sendable () -> Void
    /// Told of every password this service sees in plaintext and accepts (sign-up, a
    /// successful sign-in, a change, an operator's), after it is stored: the Cognito API keeps
    /// its SRP verifiers with it (contract §11.6). Runs in the background.
    public let passwordObserver: (any PasswordObserver)?
    /// Lazy migration, when a ``UserMigrationHook`` is registered.
    let migration: UserMigration?
    /// The series sign-ins, sign-ups and token grants count into (contract §12.1).
    public let metrics: ServiceMetrics

    public init(
        settings: Settings, store: any Store, hasher: any PasswordHasher, throttle: LoginThrottle,
        signer: any TokenSigner, verifier: any TokenVerifier, crypto: any CryptoPrimitives, hooks: Hooks,
        clients: ClientRegistry, lifecycleMail: LifecycleMail, now: @escaping Now, logger: Logger,
        userCreated: @escaping @Sendable () -> Void = {}, mailQueued: @escaping @Sendable () -> Void = {},
        passwordObserver: (any PasswordObserver)? = nil, metrics: ServiceMetrics = .disabled
    ) {
        self.metrics = metrics
        self.passwordObserver = passwordObserver
        self.lifecycleMail = lifecycleMail
        self.mailQueued = mailQueued
        self.clients = clients
        self.accessTokens = AccessTokenValidator(settings: settings, verifier: verifier, store: store, now: now)
        self.settings = settings
        self.store = store
        self.hasher = hasher
        self.passwords = PasswordHashing(hasher: hasher, crypto: crypto)
        self.throttle = throttle
        self.signUps = AddressLimiter(name: "signup", rate: settings.signUpIPRate, burst: Self.signUpBurst, shared: throttle.shared)
        self.costs = PasswordCosts(fallback: settings.bcryptCost) { [store] in try await store.passwordHashCosts() }
        self.issuer = TokenIssuer(settings: settings, signer: signer, crypto: crypto)
        self.crypto = crypto
        self.hooks = hooks
        self.now = now
        self.logger = logger
        self.userCreated = userCreated
        self.migration = hooks.userMigration.map {
            UserMigration(hook: $0, store: store, timeout: settings.hookTimeout, crypto: crypto, now: now, logger: logger)
        }
    }

    // MARK: Sign-up

    /// The most sign-ups one client IP may make at once (then `signup_ip_rate` per second).
    public static let signUpBurst: Double = 10

    /// Checks the client's sign-up rate and the input, runs the pre-sign-up hooks, hashes the
    /// password and stores the user with its post-sign-up hook runs and its verification code
    /// and mail in one transaction. With `require_email_verification` the user starts
    /// `unconfirmed` and cannot sign in until the code is used.
    public func signUp(email rawEmail: String, password rawPassword: String, attributes: [String: String], clientIP: String) async throws -> User {
        do {
            let user = try await storeSignUp(email: rawEmail, password: rawPassword, attributes: attributes, clientIP: clientIP)
            metrics.signUp(.created)
            return user
        } catch {
            if let result = ServiceMetrics.signUpResult(of: error) { metrics.signUp(result) }
            throw error
        }
    }

    private func storeSignUp(email rawEmail: String, password rawPassword: String, attributes: [String: String], clientIP: String) async throws -> User {
        if let retryAfter = try await signUps.admit(clientIP, now: now()) { throw AccountError.tooManyRequests(retryAfter: retryAfter) }
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
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        let now = now()
        let user = User(
            id: RandomIdentifier.make(using: crypto), email: email.display, emailVerified: false, passwordHash: hash,
            status: attempt.confirmed && !settings.requireEmailVerification ? .active : .unconfirmed,
            attributes: attempt.attributes, createdAt: now, updatedAt: now)
        let verification = lifecycleMail.code(for: user, purpose: .verifyEmail, address: user.email, now: now)
        do {
            try await store.createUser(user, postSignUpHooks: hooks.postSignUp.map(\.name), verification: verification, now: now)
        } catch StorageError.alreadyExists {
            throw AccountError.emailTaken
        }
        mailQueued()
        await passwordStored(user, password)
        logger.info("user signed up", metadata: ["user.id": "\(user.id)"])
        if !hooks.postSignUp.isEmpty { userCreated() }
        return user
    }

    /// An operator's new user (the Cognito API's `AdminCreateUser`): active, with `password`
    /// hashed at the configured cost and marked temporary (one sign-in, then a new one must be
    /// chosen) unless `temporary` is false. No hooks run, as with `admin users create`.
    public func createByOperator(
        email rawEmail: String, password rawPassword: String, temporary: Bool, emailVerified: Bool, attributes: [String: String]
    ) async throws -> User {
        guard let email = EmailAddress(rawEmail) else { throw AccountError.invalidEmail }
        let password = try PasswordPolicy.validate(rawPassword)
        try Self.checkAttributes(attributes)
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        let now = now()
        let user = User(
            id: RandomIdentifier.make(using: crypto), email: email.display, emailVerified: emailVerified, passwordHash: hash, status: .active,
            attributes: attributes, createdAt: now, updatedAt: now, passwordState: temporary ? .temporary : .permanent)
        do {
            try await store.createUser(user, postSignUpHooks: [], verification: nil, now: now)
        } catch StorageError.alreadyExists {
            throw AccountError.emailTaken
        }
        await passwordStored(user, password)
        logger.info("user created by an operator", metadata: ["user.id": "\(user.id)"])
        return user
    }

    /// An operator sets a user's password: checked against the policy, hashed, permanent or
    /// temporary; everything the user holds is revoked.
    public func setPasswordByOperator(userID: String, password rawPassword: String, temporary: Bool) async throws {
        let password = try PasswordPolicy.validate(rawPassword)
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        do {
            try await store.setPassword(userID: userID, hash: hash, state: temporary ? .temporary : .permanent, now: now())
        } catch StorageError.notFound {
            throw AccountError.notFound
        }
        if let user = try await store.user(id: userID) { await passwordStored(user, password) }
    }

    /// The user answers a `NEW_PASSWORD_REQUIRED` challenge: their temporary password becomes
    /// the new one, permanent. Refused unless the password is still temporary.
    public func replaceTemporaryPassword(userID: String, new rawPassword: String) async throws -> User {
        let password = try PasswordPolicy.validate(rawPassword)
        guard let user = try await store.user(id: userID), user.status == .active, user.passwordState == .temporary else {
            throw AccountError.invalidCredentials
        }
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        guard let updated = try await store.replaceTemporaryPassword(userID: userID, hash: hash, now: now()) else {
            throw AccountError.invalidCredentials
        }
        await passwordStored(updated, password)
        return updated
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

    /// Password login (`/v1/login`) for the first-party client, or for a registered **public**
    /// client named by `clientID` that is registered for the password grant. A confidential
    /// client must authenticate, which it does at `/oauth2/token` (RFC 6749 §4.3.2). A refresh
    /// token is issued only to a client registered for `refresh_token`.
    public func login(email: String, password: String, clientID: String?, scope requested: String?, clientIP: String) async throws -> IssuedTokens {
        guard let client = try await clients.client(id: clientID ?? FirstPartyClient.id), client.grants.contains(.password) else {
            throw AccountError.invalidClient("unknown client or not registered for the password grant")
        }
        guard client.isPublic else {
            throw AccountError.invalidClient("a confidential client authenticates at /oauth2/token with its secret")
        }
        return try await passwordGrant(
            client: client, email: email, password: password, scope: requested, clientIP: clientIP,
            withRefreshToken: client.grants.contains(.refreshToken))
    }

    /// Checks an email and password as `/v1/login` does (limits, constant-cost verification,
    /// status), for the hosted login page. Returns the user.
    ///
    /// An unknown email and a wrong password take the same path and time: one bcrypt, against
    /// a dummy hash of a cost drawn like real users' (``PasswordCosts``). A malformed email
    /// cannot name an account, so it is refused without hashing and without being remembered.
    public func verifyPassword(email rawEmail: String, password rawPassword: String, clientIP: String) async throws -> User {
        try await countingLogin { try await checkPassword(email: rawEmail, password: rawPassword, clientIP: clientIP) }
    }

    /// Runs a password sign-in and counts how it ended in `tessera_logins_total`.
    private func countingLogin(_ signIn: () async throws -> (user: User, migrated: Bool)) async throws -> User {
        do {
            let (user, migrated) = try await signIn()
            metrics.login(migrated ? .migrated : .success)
            return user
        } catch {
            if let result = ServiceMetrics.loginResult(of: error) { metrics.login(result) }
            throw error
        }
    }

    private func checkPassword(email rawEmail: String, password rawPassword: String, clientIP: String) async throws -> (user: User, migrated: Bool) {
        let now = now()
        try await throttle.admitAttempt(fromIP: clientIP, now: now)
        guard let address = EmailAddress(rawEmail) else {
            logger.info("login failed", metadata: ["reason": "malformed email"])
            throw AccountError.invalidCredentials
        }
        // The lock-out counts per account (all its addresses together), or per address for an
        // address that names none; the lookup is the same read either way.
        let user = try await store.user(email: address.key)
        let key = user.map { AccountKey(userID: $0.id, using: crypto) } ?? AccountKey(address, using: crypto)
        try await throttle.begin(key, now: now)
        let checked: (user: User?, password: Password?, matches: Bool, migrated: Bool)
        do {
            let password = PasswordPolicy.presented(rawPassword)
            if let migration, let password, user.map(UserMigration.awaitsPassword) ?? true {
                let migrated = try await migrate(migration, address: address, password: password, existing: user, now: now)
                checked = (migrated ?? user, password, migrated != nil, migrated != nil)
            } else {
                let matches = try await passwords.verify(password, against: user?.passwordHash, dummyCost: costs.draw(now: now))
                checked = (user, password, matches, false)
            }
        } catch {
            _ = try? await throttle.finish(key, succeeded: false, now: now)
            throw error
        }
        guard checked.matches, let user = checked.user, let password = checked.password, let hash = user.passwordHash else {
            if let lockedUntil = try await throttle.finish(key, succeeded: false, now: now), let user = checked.user {
                recordLockOut(user, until: lockedUntil, now: now)
            }
            logger.info("login failed", metadata: ["reason": "\(checked.user == nil ? "unknown email" : "wrong password")"])
            throw AccountError.invalidCredentials
        }
        try await throttle.finish(key, succeeded: true, now: now)
        try Self.checkCanSignIn(user)
        rehashIfNeeded(user: user, password: password, hash: hash)
        passwordSeen(user, password)
        return (user, checked.migrated)
    }

    /// Lazy migration of a sign-in (contract §11.7): the old system checks the password; a
    /// refusal costs one bcrypt as any failed sign-in does.
    private func migrate(_ migration: UserMigration, address: EmailAddress, password: Password, existing: User?, now: Date) async throws -> User? {
        let (passwords, cost) = (passwords, settings.bcryptCost)
        let migrated = try await migration.signIn(
            address: address, password: password, existing: existing,
            hash: { try await passwords.hash(password, cost: cost, priority: .signIn) },
            verify: { try await passwords.verify(password, against: $0, dummyCost: cost) })
        if migrated == nil { _ = try await passwords.verify(nil, against: nil, dummyCost: costs.draw(now: now)) }
        return migrated
    }

    /// What a user whose proof was right must still be to sign in: active, with a password of
    /// their own.
    static func checkCanSignIn(_ user: User) throws(AccountError) {
        switch user.status {
        case .active: break
        case .disabled: throw .userDisabled
        case .unconfirmed: throw .userUnconfirmed
        }
        switch user.passwordState {
        case .permanent: break
        case .temporary: throw .passwordChangeRequired(userID: user.id)
        case .resetRequired: throw .passwordResetRequired
        }
    }

    /// Takes one sign-in attempt from the client IP's bucket (`login_ip_rate`), as every
    /// password sign-in does; for sign-ins that start before any proof (SRP's first step).
    public func admitSignInAttempt(clientIP: String) async throws {
        try await throttle.admitAttempt(fromIP: clientIP, now: now())
    }

    /// Throws `too_many_attempts` while the account is locked out (its recent failures reached
    /// `login_max_failures`), without counting an attempt.
    public func checkNotLockedOut(_ user: User) async throws {
        let now = now()
        let key = AccountKey(userID: user.id, using: crypto)
        try await throttle.begin(key, now: now)
        throttle.abandon(key)
    }

    /// A sign-in whose proof of the password is not a password this service hashes (the
    /// Cognito API's SRP verifier): the account's lock-out counts it as a password sign-in
    /// does, and the same status rules apply. `user` nil (no such user) fails like a wrong
    /// proof.
    public func signIn(proving user: User?, lockOutKey name: String, proof: () async throws -> Bool) async throws -> User {
        try await countingLogin { (try await checkProof(of: user, lockOutKey: name, proof: proof), false) }
    }

    private func checkProof(of user: User?, lockOutKey name: String, proof: () async throws -> Bool) async throws -> User {
        let now = now()
        let key = user.map { AccountKey(userID: $0.id, using: crypto) } ?? AccountKey(EmailAddress(name) ?? EmailAddress("unknown@unknown.invalid")!, using: crypto)
        try await throttle.begin(key, now: now)
        let proven: Bool
        do {
            proven = try await proof()
        } catch {
            _ = try? await throttle.finish(key, succeeded: false, now: now)
            throw error
        }
        guard proven, let user else {
            if let lockedUntil = try await throttle.finish(key, succeeded: false, now: now), let user { recordLockOut(user, until: lockedUntil, now: now) }
            logger.info("login failed", metadata: ["reason": "\(user == nil ? "unknown user" : "wrong proof")"])
            throw AccountError.invalidCredentials
        }
        try await throttle.finish(key, succeeded: true, now: now)
        try Self.checkCanSignIn(user)
        return user
    }

    /// Appends `user.locked` without holding up the answer: the failure that locks an
    /// existing account must take as long as one for an address that names none.
    private func recordLockOut(_ user: User, until: Date, now: Date) {
        logger.warning("account locked after failed logins", metadata: ["user.id": "\(user.id)"])
        Task { [store, logger] in
            do {
                try await store.appendEvent(.locked(user, until: until), now: now)
            } catch {
                logger.error("could not record a lock-out event", metadata: ["user.id": "\(user.id)", "error": "\(error)"])
            }
        }
    }

    /// The resource-owner password grant for an (authenticated) client: checks the scope,
    /// the limits and the password, then issues tokens, with a refresh token when asked.
    public func passwordGrant(
        client: Client, email rawEmail: String, password rawPassword: String, scope requested: String?, clientIP: String, withRefreshToken: Bool
    ) async throws -> IssuedTokens {
        let scope = Self.withAccountIfFirstParty(
            try Self.grantedScope(requested, allowed: client.userScope, default: client.defaultScope), clientID: client.id)
        let user = try await verifyPassword(email: rawEmail, password: rawPassword, clientIP: clientIP)
        let now = try await issueInstant(for: user, now: now())
        let audience = clients.audience(for: client)
        let tokens = withRefreshToken
            ? try await startFamily(
                user: user, clientID: client.id, audience: audience, scope: scope, authTime: now, lifetime: client.accessTokenTTL, now: now)
            : try issuer.issue(
                user: user, clientID: client.id, audience: audience, scope: scope, authTime: now, lifetime: client.accessTokenTTL,
                groups: try await groupClaim(userID: user.id, scope: scope), now: now)
        metrics.tokensIssued(.password)
        return tokens
    }

    /// Issues tokens for a fresh password login and stores the first refresh token of a new family.
    func startFamily(
        user: User, clientID: String, audience: String, scope: Scope, authTime: Date, lifetime: TimeInterval? = nil, now: Date
    ) async throws -> IssuedTokens {
        try await startFamily(user: user, clientID: clientID, scope: scope, authTime: authTime, lifetime: lifetime, now: now) { grant in
            try issuer.issue(
                user: grant.user, clientID: grant.clientID, audience: audience, scope: grant.scope, authTime: grant.authTime,
                lifetime: grant.lifetime, groups: try await groupClaim(userID: grant.user.id, scope: grant.scope), now: grant.now)
        }
    }

    /// Starts a refresh family for a user who just signed in, with its tokens minted by `mint`
    /// (Tessera's shape, or the Cognito API's): the family's first refresh token is stored,
    /// then handed out with them.
    public func startFamily(
        user: User, clientID: String, scope: Scope, authTime: Date, lifetime: TimeInterval?, now requested: Date, mint: TokenMinter
    ) async throws -> IssuedTokens {
        let now = try await issueInstant(for: user, now: requested)
        let family = RefreshTokenFamily(
            id: RandomIdentifier.make(using: crypto), userID: user.id, clientID: clientID, scope: scope.description,
            authTime: authTime, createdAt: now, expiresAt: now.addingTimeInterval(settings.refreshTokenTTL))
        var tokens = try await mint(
            TokenGrant(user: user, clientID: clientID, scope: scope, authTime: authTime, familyID: family.id, lifetime: lifetime, now: now))
        let refresh = RefreshToken.generate(using: crypto)
        try await store.createFamily(family, firstToken: refresh.hash(using: crypto), now: now)
        tokens.refreshToken = refresh
        tokens.refreshExpiresAt = family.expiresAt
        logger.info("login", metadata: ["user.id": "\(user.id)", "client.id": "\(clientID)", "grant.family": "\(family.id)"])
        return tokens
    }

    /// When tokens for `user` may be issued: `now`, unless the user's tokens were revoked
    /// within this whole second. `iat` has whole seconds and a token of the revocation's second
    /// counts as before it, so such a sign-in waits for the next second (at most one).
    public func issueInstant(for user: User, now: Date) async throws -> Date {
        guard let notBefore = user.tokensNotBefore else { return now }
        let boundary = Date(timeIntervalSince1970: notBefore.timeIntervalSince1970.rounded(.down) + 1)
        guard now < boundary else { return now }
        let wait = boundary.timeIntervalSince(self.now())
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        return max(self.now(), boundary)
    }

    /// The `groups` claim: the user's group names in precedence order when `scope` holds
    /// `groups` (read only then), else nil.
    public func groupClaim(userID: String, scope: Scope) async throws -> [String]? {
        guard scope.contains(Scope.groups) else { return nil }
        return try await store.groups(ofUser: userID).map(\.name)
    }

    /// First-party tokens always reach the user's own account API (`account`), also those
    /// refreshed from a family that began before the scope existed.
    static func withAccountIfFirstParty(_ scope: Scope, clientID: String) -> Scope {
        clientID == FirstPartyClient.id ? scope.adding(Scope.account) : scope
    }

    /// The scope to grant: the requested one (or `defaultScope`), refused if it asks for more
    /// than `allowed`.
    static func grantedScope(_ requested: String?, allowed: Scope, default defaultScope: Scope) throws(AccountError) -> Scope {
        guard let requested else { return defaultScope }
        guard let scope = Scope(parsing: requested) else { throw .invalidScope("malformed scope") }
        guard scope.isSubset(of: allowed) else { throw .invalidScope("scope exceeds what the client may request") }
        return scope
    }

    /// After a successful login with a hash of another cost or an older scheme, replaces it
    /// with a current one at the configured cost, in the background (the login does not wait).
    private func rehashIfNeeded(user: User, password: Password, hash: String) {
        guard passwords.needsRehash(hash, cost: settings.bcryptCost) else { return }
        let (passwords, store, settings, logger, now) = (passwords, store, settings, logger, now)
        Task {
            do {
                let rehashed = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
                try await store.updatePasswordHash(userID: user.id, hash: rehashed, now: now())
                logger.info("password rehashed", metadata: ["user.id": "\(user.id)", "bcrypt.cost": "\(settings.bcryptCost)"])
            } catch {
                logger.warning("password rehash skipped", metadata: ["user.id": "\(user.id)", "error": "\(error)"])
            }
        }
    }

    // MARK: Refresh and logout

    /// Rotates a refresh token of `authenticated`: the client the token endpoint authenticated,
    /// or the first-party client at `/v1/token/refresh`. A token of another client is refused
    /// and left untouched (RFC 6749 §6, RFC 9700 §4.14). Reuse of a rotated token revokes its
    /// whole family.
    public func refresh(_ presented: String, client authenticated: Client, scope requested: String? = nil) async throws -> IssuedTokens {
        try await refresh(presented, client: authenticated, scope: requested) { grant in
            try issuer.issue(
                user: grant.user, clientID: grant.clientID, audience: clients.audience(for: authenticated), scope: grant.scope,
                authTime: grant.authTime, lifetime: grant.lifetime, groups: try await groupClaim(userID: grant.user.id, scope: grant.scope),
                now: grant.now)
        }
    }

    /// ``refresh(_:client:scope:)`` with the tokens minted by `mint`.
    public func refresh(_ presented: String, client authenticated: Client, scope requested: String?, mint: TokenMinter) async throws -> IssuedTokens {
        guard let token = RefreshToken(presented: presented) else { throw AccountError.invalidGrant(reason: "malformed token") }
        let now = now()
        if requested != nil, let family = try await store.family(containing: token.hash(using: crypto)) {
            // Refuse a widening before the token is spent (a family's scope never changes).
            _ = try Self.grantedScope(requested, allowed: Scope(parsing: family.scope) ?? Scope([]), default: Scope([]))
        }
        let successor = RefreshToken.generate(using: crypto)
        // The access token is signed while the rotation commits; it leaves only after.
        let answer = try await store.rotate(
            token.hash(using: crypto), successor: successor.hash(using: crypto), clientID: authenticated.id, now: now
        ) { outcome -> RotationAnswer in
            switch outcome {
            case .refused(let reason):
                return .refused(reason: reason)
            case .reused(let familyID):
                return .reused(familyID: familyID)
            case .rotated(let family, let user):
                let granted = Scope(parsing: family.scope) ?? Scope([])
                // RFC 6749 §6: a refresh may narrow the scope, never widen it.
                let scope = Self.withAccountIfFirstParty(
                    try Self.grantedScope(requested, allowed: granted, default: granted), clientID: family.clientID)
                var tokens = try await mint(TokenGrant(
                    user: user, clientID: family.clientID, scope: scope, authTime: family.authTime, familyID: family.id,
                    lifetime: authenticated.accessTokenTTL, now: now))
                tokens.refreshToken = successor
                tokens.refreshExpiresAt = family.expiresAt
                return .issued(tokens)
            }
        }
        switch answer {
        case .issued(let tokens):
            metrics.tokensIssued(.refreshToken)
            return tokens
        case .refused(let reason):
            throw AccountError.invalidGrant(reason: reason)
        case .reused(let familyID):
            metrics.refreshReuseDetected()
            logger.warning("refresh token reuse: family revoked", metadata: ["grant.family": "\(familyID)"])
            throw AccountError.invalidGrant(reason: "reuse detected")
        }
    }

    /// Uses a refresh token without rotating it, for a client whose Cognito-API refresh tokens
    /// do not rotate (contract §11.4, `refresh_token_rotation: disabled`): the token must be
    /// current, of this client, its family neither revoked nor expired, its user active.
    /// Returns new tokens from `mint` and no refresh token.
    public func refreshWithoutRotation(_ presented: String, client: Client, mint: TokenMinter) async throws -> IssuedTokens {
        guard let token = RefreshToken(presented: presented) else { throw AccountError.invalidGrant(reason: "malformed token") }
        let now = now()
        guard let standing = try await store.inspect(token.hash(using: crypto)) else { throw AccountError.invalidGrant(reason: "unknown token") }
        guard standing.family.clientID == client.id else { throw AccountError.invalidGrant(reason: "token of another client") }
        guard !standing.familyRevoked else { throw AccountError.invalidGrant(reason: "family revoked") }
        guard !standing.used else { throw AccountError.invalidGrant(reason: "token already rotated") }
        guard standing.family.expiresAt > now else { throw AccountError.invalidGrant(reason: "family expired") }
        guard let user = standing.user, user.status == .active else { throw AccountError.invalidGrant(reason: "user cannot sign in") }
        if let notBefore = user.tokensNotBefore, standing.issuedAt <= notBefore { throw AccountError.invalidGrant(reason: "signed out") }
        let family = standing.family
        let tokens = try await mint(TokenGrant(
            user: user, clientID: family.clientID, scope: Scope(parsing: family.scope) ?? Scope([]), authTime: family.authTime,
            familyID: family.id, lifetime: client.accessTokenTTL, now: now))
        metrics.tokensIssued(.refreshToken)
        return tokens
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

    // MARK: Password change

    /// `POST /v1/me/password`: checks the current password as a login does (a wrong one counts
    /// toward the account's lock-out), then, in one transaction, stores the new one, revokes
    /// every refresh family and every access token issued so far, and queues a
    /// `password_changed` notice. Returns a new first-party token set, as a login does.
    public func changePassword(of user: User, current: String, new rawPassword: String, clientIP: String) async throws -> IssuedTokens {
        let (checked, changedAt) = try await replacePassword(of: user, current: current, new: rawPassword, clientIP: clientIP)
        // `iat` has whole seconds, and a token of the change's second counts as before it:
        // the new set is issued from the next second on.
        let boundary = Date(timeIntervalSince1970: changedAt.timeIntervalSince1970.rounded(.down) + 1)
        let wait = boundary.timeIntervalSince(now())
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        let issuedAt = max(now(), boundary)
        let client = ClientRegistry.firstParty
        return try await startFamily(
            user: checked, clientID: client.id, audience: clients.audience(for: client),
            scope: Self.withAccountIfFirstParty(client.defaultScope, clientID: client.id), authTime: issuedAt,
            lifetime: client.accessTokenTTL, now: issuedAt)
    }

    /// The password change of ``changePassword(of:current:new:clientIP:)`` without new tokens
    /// (the Cognito API's `ChangePassword`): the same checks, the same revocations and notice.
    /// Returns the user as checked and the instant of the change.
    @discardableResult
    public func replacePassword(of user: User, current: String, new rawPassword: String, clientIP: String) async throws -> (User, Date) {
        let password = try PasswordPolicy.validate(rawPassword)
        let checked = try await verifyPassword(email: user.email, password: current, clientIP: clientIP)
        guard checked.id == user.id else { throw AccountError.invalidCredentials }
        let hash = try await passwords.hash(password, cost: settings.bcryptCost, priority: .other)
        let changedAt = now()
        let notice = lifecycleMail.notice(.passwordChanged, to: user.email, about: user.email, user: user, now: changedAt)
        do {
            try await store.changePassword(userID: user.id, hash: hash, notice: notice, now: changedAt)
        } catch StorageError.notFound {
            throw BearerError.invalidToken(reason: "no such user")
        }
        mailQueued()
        await passwordStored(checked, password)
        logger.notice("password changed; every other session revoked", metadata: ["user.id": "\(user.id)"])
        return (checked, changedAt)
    }

    // MARK: Deletion

    /// `POST /v1/me/deletion`: with the current password (checked as a login, counting toward
    /// the lock-out), erases the account — personal data, tokens, sessions, codes — keeping a
    /// tombstone of the id, and frees its address; an `account_deleted` notice to the address
    /// is queued in the same transaction.
    public func deleteAccount(of user: User, currentPassword: String, clientIP: String) async throws {
        let checked = try await verifyPassword(email: user.email, password: currentPassword, clientIP: clientIP)
        guard checked.id == user.id else { throw AccountError.invalidCredentials }
        try await erase(user, by: "its user")
    }

    /// Erases the account of a user who proved who they are (the Cognito API's `DeleteUser`,
    /// which takes the access token alone), as ``deleteAccount(of:currentPassword:clientIP:)``
    /// does after its password check.
    public func erase(_ user: User, by actor: String) async throws {
        let now = now()
        let farewell = lifecycleMail.notice(.accountDeleted, to: user.email, about: user.email, user: user, now: now)
        do {
            try await store.deleteUser(id: user.id, farewell: farewell, now: now)
        } catch StorageError.notFound {
            throw BearerError.invalidToken(reason: "no such user")
        }
        mailQueued()
        logger.notice("account deleted by \(actor)", metadata: ["user.id": "\(user.id)"])
    }

    // MARK: Profile

    /// Applies a JSON merge of `changes` to the user's attributes (`nil` removes a name), only
    /// while `ifMatch` holds for the profile as stored: the check and the write are one
    /// transaction, so of two updates read from one version exactly one wins. The merged
    /// attributes keep the sign-up bounds.
    public func updateAttributes(of userID: String, ifMatch: String?, changes: [String: String?]) async throws -> User {
        guard let ifMatch else { throw AccountError.preconditionRequired }
        let outcome = try await store.updateAttributes(userID: userID, now: now()) { current in
            guard let holds = ProfileETag.ifMatch(ifMatch, holdsFor: ProfileETag.of(current)) else {
                throw AccountError.invalidRequest("If-Match is not a list of entity tags or *")
            }
            guard holds else { return .keep }
            var merged = current.attributes
            for (name, value) in changes { merged[name] = value }
            try Self.checkAttributes(merged)
            return .replace(merged)
        }
        switch outcome {
        case .updated(let user):
            logger.info("profile updated", metadata: ["user.id": "\(userID)"])
            return user
        case .refused(let current):
            throw AccountError.preconditionFailed(currentETag: ProfileETag.of(current))
        case .notFound:
            throw BearerError.invalidToken(reason: "no such user")
        }
    }

    // MARK: Bearer tokens

    /// Verifies an access token for the user's own account API (audience: the issuer or
    /// `default_audience`), checks it has not been revoked and that its scope holds `account`;
    /// the subject must be a user, not a client.
    public func authenticate(bearer token: String) async throws -> (User, AccessTokenClaims) {
        let validated = try await accessTokens.validate(token, audience: settings.firstPartyAudience)
        guard let user = validated.user else { throw BearerError.invalidToken(reason: "not a user token") }
        guard Scope.text(validated.claims.scope, contains: Scope.account) else {
            throw BearerError.insufficientScope(required: Scope.account)
        }
        return (user, validated.claims)
    }
}

/// A bearer token was refused (RFC 6750 §3.1). The reason is only logged.
public enum BearerError: Error, Equatable, Sendable {
    case missing
    case invalidToken(reason: String)
    /// Valid, but its scope lacks `required` (403).
    case insufficientScope(required: String)
}

/// What a sign-in or a refresh grants, for a ``TokenMinter`` to turn into tokens.
public struct TokenGrant: Sendable {
    public let user: User
    public let clientID: String
    public let scope: Scope
    public let authTime: Date
    /// The refresh family the tokens descend from, if any.
    public let familyID: String?
    /// The client's own access-token lifetime, if it has one.
    public let lifetime: TimeInterval?
    public let now: Date

    public init(user: User, clientID: String, scope: Scope, authTime: Date, familyID: String?, lifetime: TimeInterval?, now: Date) {
        self.user = user
        self.clientID = clientID
        self.scope = scope
        self.authTime = authTime
        self.familyID = familyID
        self.lifetime = lifetime
        self.now = now
    }
}

/// Signs the access (and ID) token of a grant, in one API's shape.
public typealias TokenMinter = @Sendable (TokenGrant) async throws -> IssuedTokens

/// Learns each password the service accepts, in plaintext, once it is stored (contract §11.6:
/// SRP verifiers). Must not log or keep the password itself.
public protocol PasswordObserver: Sendable {
    /// `onlyIfMissing`: a sign-in with a password already known changes nothing, so an
    /// observer may skip work it already did for it.
    func passwordAccepted(user: User, password: String, onlyIfMissing: Bool) async
}

extension AccountService {
    /// Tells the observer, in the background, of a password that signed in.
    func passwordSeen(_ user: User, _ password: Password) {
        guard let passwordObserver else { return }
        let text = password.text
        Task { await passwordObserver.passwordAccepted(user: user, password: text, onlyIfMissing: true) }
    }

    /// Tells the observer of a password just stored (waits for it).
    func passwordStored(_ user: User, _ password: Password) async {
        await passwordObserver?.passwordAccepted(user: user, password: password.text, onlyIfMissing: false)
    }
}
