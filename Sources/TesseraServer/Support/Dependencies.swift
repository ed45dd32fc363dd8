import Foundation
import Logging
import TesseraCore

/// What the HTTP layer is built from: composed once by the caller, shared by every controller.
public struct Dependencies: Sendable {
    public let settings: Settings
    public let storage: any Storage
    /// Signs, verifies and publishes with Tessera's signing keys.
    public let keys: any TokenSigner & TokenVerifier & KeySetPublisher
    public let crypto: any CryptoPrimitives
    public let now: Now
    /// Works through post-sign-up hook runs; run as a service by ``buildApplication(dependencies:logger:onReady:)``.
    public let hookRunner: PostSignUpHookRunner
    public let accounts: AccountService
    /// Introspection and revocation.
    public let inspector: TokenInspector
    /// The authorization code flow and SSO sessions.
    public let authorization: AuthorizationService
    /// Removes expired families, sessions, revoked jtis and codes; run as a service.
    public let retention: RetentionSweeper
    /// Email verification and password recovery.
    public let lifecycle: LifecycleService
    /// A signed-in user's addresses.
    public let addresses: EmailAddressService
    /// The administrative user actions, shared with the admin CLI.
    public let admin: UserAdministration
    /// The administrative revocations and the audit trail, shared with the admin CLI.
    public let revocations: RevocationAdministration
    /// Listing and rotating signing keys, shared with the admin CLI.
    public let keyAdministration: KeyAdministration
    /// Registering and managing clients, shared with the admin CLI; nil without a secret sealer.
    public let clientAdministration: ClientAdministration?
    /// Groups and their members, shared with the admin CLI.
    public let groupAdministration: GroupAdministration
    /// Webhook endpoints and their deliveries, shared with the admin CLI; nil when the caller
    /// composed none (the admin API's webhooks resource is then absent).
    public let webhookAdministration: (any WebhookAdministration)?
    /// Hashes and verifies passwords (its pool's load is a metric).
    public let passwordHasher: any PasswordHasher
    /// The domain series of contract §12.1.
    public let metrics: ServiceMetrics

    public init(
        settings: Settings,
        storage: any Storage,
        keys: any TokenSigner & TokenVerifier & KeySetPublisher,
        crypto: any CryptoPrimitives,
        hasher: (any PasswordHasher)? = nil,
        hooks: Hooks = .none,
        codeSecret: CodeSecret? = nil,
        now: @escaping Now = { Date() },
        logger: Logger,
        mailQueued: @escaping @Sendable () -> Void = {},
        passwordObserver: (any PasswordObserver)? = nil,
        metrics: ServiceMetrics = .disabled,
        keyGenerator: (any SigningKeyGenerator)? = nil,
        secretSealer: (any SecretSealer)? = nil,
        webhookAdministration: (any WebhookAdministration)? = nil
    ) {
        let hasher = hasher ?? BcryptPasswordHasher(metrics: metrics)
        self.passwordHasher = hasher
        self.metrics = metrics
        self.settings = settings
        self.storage = storage
        self.keys = keys
        self.crypto = crypto
        self.now = now
        let runner = PostSignUpHookRunner(hooks: hooks.postSignUp, store: storage, settings: settings, now: now, logger: logger)
        hookRunner = runner
        let mail = LifecycleMail(settings: settings, secret: codeSecret ?? CodeSecret.generate(using: crypto), crypto: crypto)
        accounts = AccountService(
            settings: settings, store: storage, hasher: hasher, throttle: LoginThrottle(settings: settings, shared: storage as? any SharedLimitStore),
            signer: keys, verifier: keys, crypto: crypto, hooks: hooks,
            clients: ClientRegistry(store: storage, settings: settings, crypto: crypto), lifecycleMail: mail, now: now, logger: logger,
            userCreated: { runner.nudge() }, mailQueued: mailQueued, passwordObserver: passwordObserver, metrics: metrics)
        lifecycle = LifecycleService(
            settings: settings, store: storage, mail: mail, hasher: hasher, crypto: crypto, now: now, logger: logger, mailQueued: mailQueued,
            sharedLimits: storage as? any SharedLimitStore, passwordObserver: passwordObserver, userMigration: hooks.userMigration)
        addresses = EmailAddressService(store: storage, accounts: accounts, lifecycle: lifecycle, logger: logger)
        authorization = AuthorizationService(settings: settings, store: storage, accounts: accounts, crypto: crypto, now: now, logger: logger)
        retention = RetentionSweeper(store: storage, eventRetention: settings.eventRetention, now: now, logger: logger)
        admin = UserAdministration(store: storage, hasher: hasher, bcryptCost: settings.bcryptCost, crypto: crypto, now: now)
        revocations = RevocationAdministration(store: storage, settings: settings, crypto: crypto, now: now)
        keyAdministration = KeyAdministration(store: storage, settings: settings, generator: keyGenerator, now: now)
        clientAdministration = secretSealer.map { ClientAdministration(store: storage, sealer: $0, crypto: crypto, now: now) }
        groupAdministration = GroupAdministration(store: storage, now: now)
        self.webhookAdministration = webhookAdministration
        inspector = TokenInspector(settings: settings, store: storage, accessTokens: accounts.accessTokens, crypto: crypto, now: now)
    }
}
