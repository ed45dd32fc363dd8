import Foundation

/// Every setting of a Tessera server, validated. Built by the composition root from flags,
/// environment, config file and defaults (contract §1); read by everything else.
public struct Settings: Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The issuer URL, no trailing slash.
    public var issuer: String = "http://127.0.0.1:8080"
    public var database: String = "./data/tessera.sqlite"
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
    /// `text` or `json`.
    public var logFormat: String = "text"
    /// Clients declared in the config file, registered at start.
    public var clients: [ClientDeclaration] = []

    public init() {}

    /// The audience of first-party access tokens.
    public var firstPartyAudience: String { defaultAudience ?? issuer }

    /// `issuer` + `path`, for endpoint URLs in discovery.
    public func url(_ path: String) -> String { issuer + path }
}
