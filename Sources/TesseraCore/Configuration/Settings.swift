import Foundation

/// Every setting of a Tessera server, validated. Built by the composition root from flags,
/// environment, config file and defaults (contract §1); read by everything else.
public struct Settings: Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The management listener's address (contract §12.1): `/metrics`, `/healthz`, `/readyz`.
    public var managementHost: String = "127.0.0.1"
    /// The management listener's port; 0 turns it off.
    public var managementPort: Int = 9464
    /// The issuer URL, no trailing slash.
    public var issuer: String = "http://127.0.0.1:8080"
    public var database: String = "./data/tessera.sqlite"
    /// The most connections to PostgreSQL this instance opens (contract §10.1), 1–500.
    public var databasePoolSize: Int = 20
    /// This instance's name in logs and outbox leases: by default the host name and the pid.
    public var instanceID: String = Settings.defaultInstanceID
    /// How long outbox work (a hook run, a message) claimed by an instance stays its own; a
    /// crashed instance's claims are taken over after this, 1–3600 s.
    public var leaseTimeout: TimeInterval = 30

    /// How often an instance looks at what other instances may have changed (signing keys),
    /// 0.05–5 s.
    public var clusterSyncInterval: TimeInterval = 0.25
    /// `key_encryption_key` (or the file `key_encryption_key_file` names): base64 of 32 bytes,
    /// several comma-separated. With it, signing keys and shared secrets live in the database,
    /// sealed; without it, in the keys dir (SQLite only). Never logged.
    public var keyEncryptionKey: String?

    /// How long a rotated key is published before it signs: every instance's refresher has
    /// looked at least twice by then.
    public var keyActivationDelay: TimeInterval { 4 * clusterSyncInterval + 1 }

    /// `hostname-pid`.
    public static var defaultInstanceID: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
    public var keysDir: String = "./keys"
    /// Access-token lifetime in seconds (300–86400).
    public var accessTokenTTL: TimeInterval = 900
    /// Absolute lifetime of a refresh-token family in seconds (≥ 1).
    public var refreshTokenTTL: TimeInterval = 2_592_000
    /// bcrypt cost (10–16).
    public var bcryptCost: Int = 12
    /// Failed logins allowed per account within `loginFailureWindow` (0 = off).
    public var loginMaxFailures: Int = 10
    public var loginFailureWindow: TimeInterval = 900
    /// Login attempts allowed per second per client IP (0 = off).
    public var loginIPRate: Double = 20
    /// Sign-ups allowed per second per client IP, in bursts of up to 10 (0 = off).
    public var signUpIPRate: Double = 2
    public var hookTimeout: TimeInterval = 5
    public var hookMaxAttempts: Int = 8
    public var hookRetryBaseDelay: TimeInterval = 1
    /// Seconds a connection may stay open without a request part arriving (between
    /// requests, or before a request's head is complete) before the server closes it.
    public var httpIdleTimeout: TimeInterval = 60
    /// Lifetime of a hosted-login SSO session in seconds.
    public var sessionTTL: TimeInterval = 28800
    /// `aud` of first-party access tokens; the issuer when nil.
    public var defaultAudience: String?
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var logLevel: String = "info"
    /// `text` or `json`; the resolver's default is `text` on a terminal and `json` otherwise.
    public var logFormat: String = "text"
    /// Clients declared in the config file, registered at start.
    public var clients: [ClientDeclaration] = []

    // MARK: Account lifecycle and mail (contract §8.1)

    /// The base of every link put in mail; the issuer when nil. Never taken from a request.
    public var publicURL: String?
    /// `file:DIR`, `smtp://…` or `smtps://…` (checked at start by the mail module).
    public var mailURL: String = "file:./data/mail"
    /// The `From` mailbox; `Tessera <no-reply@HOST>` (HOST: the public URL's host) when nil.
    public var mailFrom: Mailbox?
    /// A directory overriding any of the built-in templates.
    public var mailTemplatesDir: String?
    public var mailMaxAttempts: Int = 8
    /// The first retry's delay; each next one doubles.
    public var mailRetryBaseDelay: TimeInterval = 1
    /// `product_name` in templates.
    public var productName: String = "Tessera"
    /// Whether sign-in waits for the sign-up address to be verified.
    public var requireEmailVerification = false
    /// Lifetime of an email verification (and add-email) code, 1–604800 s.
    public var verificationCodeTTL: TimeInterval = 86400
    /// Lifetime of a recovery code, 1–3600 s.
    public var recoveryCodeTTL: TimeInterval = 900
    /// Digits per code, 6–10.
    public var codeLength: Int = 8
    /// Wrong tries a code survives, 1–10.
    public var codeMaxAttempts: Int = 5
    /// Least seconds between two codes of one purpose to one account.
    public var codeResendInterval: TimeInterval = 60
    /// Most codes of one purpose to one account per hour.
    public var codeMaxSendsPerHour: Int = 5
    /// Requests per second per client IP to the code endpoints (sending and checking codes),
    /// in bursts of up to 10 (0 = off).
    public var codeIPRate: Double = 2
    /// Whether the hosted pages offer sign-up.
    public var hostedSignup = true

    // MARK: Events and webhooks (contract §9.5)

    /// How long a webhook endpoint has to answer a delivery, 1–60 s.
    public var webhookTimeout: TimeInterval = 15
    /// The delays between a failed delivery and its retries, one retry per entry.
    public var webhookRetrySchedule: [TimeInterval] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    /// An endpoint failing without a success for this long is disabled.
    public var webhookDisableAfter: TimeInterval = 432_000
    /// Whether webhook targets may be in private, loopback and link-local networks.
    public var webhookAllowPrivateNetworks = false
    /// How long events are kept.
    public var eventRetention: TimeInterval = 2_592_000

    // MARK: The Cognito-compatible API (contract §11)

    /// The user pool id the Cognito API answers as (`<region>_<suffix>`); the API is off when nil.
    public var cognitoPoolID: String?
    /// Origins allowed to call the Cognito API from a browser; `*` allows any.
    public var cognitoCORSOrigins: [String] = ["*"]
    /// Whether the Cognito API keeps SRP verifiers and offers `USER_SRP_AUTH`.
    public var cognitoSRP = true

    /// Lazy migration from an upstream Cognito pool (`migration_cognito_*`, contract §11.7);
    /// off when nil.
    public var migrationCognito: CognitoUpstreamSettings?

    /// `iss` of the tokens the Cognito API issues: `<public_url>/<pool id>`.
    public var cognitoIssuer: String? { cognitoPoolID.map { publicBaseURL + "/" + $0 } }

    /// The pool id's region (before the `_`), for SigV4 and discovery.
    public var cognitoRegion: String? { cognitoPoolID.flatMap { $0.split(separator: "_").first.map(String.init) } }

    public init() {}

    /// The audience of first-party access tokens.
    public var firstPartyAudience: String { defaultAudience ?? issuer }

    /// The base of links in mail: `public_url`, else the issuer.
    public var publicBaseURL: String { publicURL ?? issuer }

    /// The `From` of every message. The default's domain is the public URL's host, or
    /// `localhost` when that is an IP address (not a domain an address can have).
    public var mailSender: Mailbox {
        if let mailFrom { return mailFrom }
        let host = URLComponents(string: publicBaseURL)?.host ?? "localhost"
        let isIP = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return Mailbox(displayName: "Tessera", address: "no-reply@" + (isIP ? "localhost" : host))
    }

    /// How often codes of one purpose may go to one account.
    public var codeSendLimits: CodeSendLimits {
        CodeSendLimits(resendInterval: codeResendInterval, maxPerHour: codeMaxSendsPerHour)
    }

    /// `issuer` + `path`, for endpoint URLs in discovery.
    public func url(_ path: String) -> String { issuer + path }
}

/// The upstream Cognito pool lazy migration asks (contract §11.7).
public struct CognitoUpstreamSettings: Sendable, Equatable {
    public var poolID: String
    public var clientID: String?
    public var clientSecret: String?
    public var accessKeyID: String?
    public var secretAccessKey: String?
    /// Defaults to the pool id's region.
    public var region: String?
    /// `https://cognito-idp.<region>.amazonaws.com/` unless set (tests point it at moto).
    public var endpoint: String?

    public init(poolID: String) {
        self.poolID = poolID
    }

    public var resolvedRegion: String { region ?? poolID.split(separator: "_").first.map(String.init) ?? "us-east-1" }
    public var resolvedEndpoint: String { endpoint ?? "https://cognito-idp.\(resolvedRegion).amazonaws.com/" }

    /// What is missing for the upstream to be called, nil when nothing is.
    public var missing: String? {
        let absent = [("migration_cognito_client_id", clientID), ("migration_cognito_access_key_id", accessKeyID),
                      ("migration_cognito_secret_access_key", secretAccessKey)].filter { $0.1?.isEmpty ?? true }.map(\.0)
        return absent.isEmpty ? nil : absent.joined(separator: ", ")
    }
}
