import Foundation
import TesseraCore
import TesseraCrypto
import TesseraMail
import TesseraPostgres

/// Why one raw value was refused (the resolver adds the setting and its origin).
struct InvalidValue: Error {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One setting: its flat key (config file), environment name, and how a raw string becomes
/// a validated value in ``Settings``.
struct SettingSpec: Sendable {
    let key: String
    let apply: @Sendable (String, inout Settings) throws(InvalidValue) -> Void

    var environmentName: String { "TESSERA_" + key.uppercased() }

    /// Whether the value is a secret, never shown in a message.
    var isSecret: Bool { ["key_encryption_key", "migration_cognito_client_secret", "migration_cognito_secret_access_key"].contains(key) }

    /// Every setting of contract §1, in one table.
    static let all: [SettingSpec] = [
        text("host", \.host),
        integer("port", \.port, 1...65535),
        text("management_host", \.managementHost),
        integer("management_port", \.managementPort, 0...65535),
        SettingSpec(key: "issuer") { value, settings throws(InvalidValue) in
            settings.issuer = try issuer(value)
        },
        SettingSpec(key: "database") { value, settings throws(InvalidValue) in
            do throws(PostgresURL.Invalid) {
                _ = try DatabaseLocation(value)
            } catch {
                throw InvalidValue(error.description)
            }
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            settings.database = value
        },
        integer("database_pool_size", \.databasePoolSize, 1...500),
        SettingSpec(key: "instance_id") { value, settings throws(InvalidValue) in
            guard (1...128).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
                throw InvalidValue("must be 1 to 128 characters of letters, digits, '-', '_', '.' and ':'")
            }
            settings.instanceID = value
        },
        seconds("lease_timeout", \.leaseTimeout, 1...3600),
        seconds("cluster_sync_interval", \.clusterSyncInterval, 0.05...5),
        SettingSpec(key: "key_encryption_key") { value, settings throws(InvalidValue) in
            settings.keyEncryptionKey = try keyEncryptionKey(value)
        },
        SettingSpec(key: "key_encryption_key_file") { value, settings throws(InvalidValue) in
            guard let text = try? String(contentsOfFile: value, encoding: .utf8) else { throw InvalidValue("cannot read \(value)") }
            settings.keyEncryptionKey = try keyEncryptionKey(text.trimmingCharacters(in: .whitespacesAndNewlines))
        },
        text("keys_dir", \.keysDir),
        seconds("access_token_ttl", \.accessTokenTTL, 300...86400),
        seconds("refresh_token_ttl", \.refreshTokenTTL, 1...(100 * 365 * 86400)),
        seconds("session_ttl", \.sessionTTL, 60...(30 * 86400)),
        seconds("http_idle_timeout", \.httpIdleTimeout, 1...86400),
        integer("bcrypt_cost", \.bcryptCost, 10...16),
        integer("login_max_failures", \.loginMaxFailures, 0...1_000_000),
        seconds("login_failure_window", \.loginFailureWindow, 1...(365 * 86400)),
        number("login_ip_rate", \.loginIPRate, 0...1_000_000),
        number("signup_ip_rate", \.signUpIPRate, 0...1_000_000),
        seconds("hook_timeout", \.hookTimeout, 0.001...300),
        integer("hook_max_attempts", \.hookMaxAttempts, 1...100),
        seconds("hook_retry_base_delay", \.hookRetryBaseDelay, 0.001...86400),
        SettingSpec(key: "default_audience") { value, settings throws(InvalidValue) in
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            settings.defaultAudience = value
        },
        choice("log_level", \.logLevel, ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        choice("log_format", \.logFormat, ["text", "json"]),
        // Account lifecycle and mail (contract §8.1).
        SettingSpec(key: "public_url") { value, settings throws(InvalidValue) in
            settings.publicURL = try issuer(value)
        },
        SettingSpec(key: "mail_url") { value, settings throws(InvalidValue) in
            do throws(MailEndpoint.Invalid) {
                _ = try MailEndpoint(parsing: value)
            } catch {
                throw InvalidValue(error.description)
            }
            settings.mailURL = value
        },
        SettingSpec(key: "mail_from") { value, settings throws(InvalidValue) in
            guard let mailbox = Mailbox(parsing: value) else {
                throw InvalidValue("must be a mailbox such as \"Example <no-reply@example.com>\", without CR or LF")
            }
            settings.mailFrom = mailbox
        },
        SettingSpec(key: "mail_templates_dir") { value, settings throws(InvalidValue) in
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            settings.mailTemplatesDir = value
        },
        integer("mail_max_attempts", \.mailMaxAttempts, 1...100),
        seconds("mail_retry_base_delay", \.mailRetryBaseDelay, 0.001...86400),
        SettingSpec(key: "product_name") { value, settings throws(InvalidValue) in
            guard (1...100).contains(value.count), !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw InvalidValue("must be 1 to 100 characters, without control characters")
            }
            settings.productName = value
        },
        boolean("require_email_verification", \.requireEmailVerification),
        seconds("verification_code_ttl", \.verificationCodeTTL, 1...604800),
        seconds("recovery_code_ttl", \.recoveryCodeTTL, 1...3600),
        integer("code_length", \.codeLength, 6...10),
        integer("code_max_attempts", \.codeMaxAttempts, 1...10),
        seconds("code_resend_interval", \.codeResendInterval, 0...3600),
        integer("code_max_sends_per_hour", \.codeMaxSendsPerHour, 1...100),
        number("code_ip_rate", \.codeIPRate, 0...1_000_000),
        boolean("hosted_signup", \.hostedSignup),
        // Events and webhooks (contract §9.5).
        seconds("webhook_timeout", \.webhookTimeout, 1...60),
        SettingSpec(key: "webhook_retry_schedule") { value, settings throws(InvalidValue) in
            let entries = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let delays = entries.compactMap { Double($0) }
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty, delays.count == entries.count,
                  delays.allSatisfy({ $0.isFinite && $0 > 0 })
            else { throw InvalidValue("must be comma-separated numbers of seconds, each greater than 0") }
            guard delays.count <= 20 else { throw InvalidValue("must have at most 20 entries") }
            settings.webhookRetrySchedule = delays
        },
        seconds("webhook_disable_after", \.webhookDisableAfter, 60...(100 * 365 * 86400)),
        boolean("webhook_allow_private_networks", \.webhookAllowPrivateNetworks),
        seconds("event_retention", \.eventRetention, 3600...(100 * 365 * 86400)),
        // The Cognito-compatible API (contract §11.1, §11.6).
        SettingSpec(key: "cognito_pool_id") { value, settings throws(InvalidValue) in
            guard value.wholeMatch(of: /[\w-]+_[0-9a-zA-Z]+/) != nil, value.count <= 55 else {
                throw InvalidValue("must be <region>_<suffix>, e.g. eu-west-1_AbC123xyz")
            }
            settings.cognitoPoolID = value
        },
        SettingSpec(key: "cognito_cors_origins") { value, settings throws(InvalidValue) in
            let origins = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !origins.isEmpty, origins.allSatisfy({ $0 == "*" || $0.hasPrefix("http://") || $0.hasPrefix("https://") }) else {
                throw InvalidValue("must be * or comma-separated origins such as https://app.example.com")
            }
            settings.cognitoCORSOrigins = origins
        },
        boolean("cognito_srp", \.cognitoSRP),
        // Lazy migration from an upstream Cognito pool (contract §11.7).
        SettingSpec(key: "migration_cognito_pool_id") { value, settings throws(InvalidValue) in
            guard value.wholeMatch(of: /[\w-]+_[0-9a-zA-Z]+/) != nil, value.count <= 55 else {
                throw InvalidValue("must be <region>_<suffix>, e.g. eu-west-1_AbC123xyz")
            }
            settings.migrationCognito = settings.migrationCognito ?? CognitoUpstreamSettings(poolID: value)
            settings.migrationCognito?.poolID = value
        },
        upstream("migration_cognito_client_id", \.clientID),
        upstream("migration_cognito_client_secret", \.clientSecret),
        upstream("migration_cognito_access_key_id", \.accessKeyID),
        upstream("migration_cognito_secret_access_key", \.secretAccessKey),
        upstream("migration_cognito_region", \.region),
        SettingSpec(key: "migration_cognito_endpoint") { value, settings throws(InvalidValue) in
            guard value.hasPrefix("https://") || value.hasPrefix("http://") else { throw InvalidValue("must be an http(s) URL") }
            guard settings.migrationCognito != nil else { throw InvalidValue("needs migration_cognito_pool_id") }
            settings.migrationCognito?.endpoint = value
        },
    ]

    /// A `migration_cognito_*` value other than the pool id, which is applied before them (the
    /// table's order) and must be set.
    static func upstream(_ key: String, _ path: any WritableKeyPath<CognitoUpstreamSettings, String?> & Sendable) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            guard !value.isEmpty, value.count <= 1024, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw InvalidValue("must be 1 to 1024 characters, without control characters")
            }
            guard settings.migrationCognito != nil else { throw InvalidValue("needs migration_cognito_pool_id") }
            settings.migrationCognito?[keyPath: path] = value
        }
    }

    static func boolean(_ key: String, _ path: any WritableKeyPath<Settings, Bool> & Sendable) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            switch value.lowercased() {
            case "true": settings[keyPath: path] = true
            case "false": settings[keyPath: path] = false
            default: throw InvalidValue("must be true or false")
            }
        }
    }

    /// A checked `key_encryption_key` (the value itself is never put in a message).
    static func keyEncryptionKey(_ value: String) throws(InvalidValue) -> String {
        do throws(KeyEncryption.Invalid) {
            _ = try KeyEncryption(parsing: value)
        } catch {
            throw InvalidValue(error.description)
        }
        return value
    }

    static func text(_ key: String, _ path: any WritableKeyPath<Settings, String> & Sendable) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            settings[keyPath: path] = value
        }
    }

    static func integer(_ key: String, _ path: any WritableKeyPath<Settings, Int> & Sendable, _ range: ClosedRange<Int>) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            guard let number = Int(value) else { throw InvalidValue("must be a whole number") }
            guard range.contains(number) else { throw InvalidValue("must be between \(range.lowerBound) and \(range.upperBound)") }
            settings[keyPath: path] = number
        }
    }

    static func number(_ key: String, _ path: any WritableKeyPath<Settings, Double> & Sendable, _ range: ClosedRange<Double>) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            guard let number = Double(value), number.isFinite else { throw InvalidValue("must be a number") }
            guard range.contains(number) else { throw InvalidValue("must be between \(format(range.lowerBound)) and \(format(range.upperBound))") }
            settings[keyPath: path] = number
        }
    }

    /// Durations are seconds and may be fractional.
    static func seconds(_ key: String, _ path: any WritableKeyPath<Settings, TimeInterval> & Sendable, _ range: ClosedRange<Double>) -> SettingSpec {
        number(key, path, range)
    }

    static func choice(_ key: String, _ path: any WritableKeyPath<Settings, String> & Sendable, _ choices: [String]) -> SettingSpec {
        SettingSpec(key: key) { value, settings throws(InvalidValue) in
            guard choices.contains(value) else { throw InvalidValue("must be one of \(choices.joined(separator: ", "))") }
            settings[keyPath: path] = value
        }
    }

    /// An issuer is an http(s) URL with a host and no query, fragment or trailing slash
    /// (RFC 8414 §2, OIDC Discovery §3).
    static func issuer(_ value: String) throws(InvalidValue) -> String {
        guard let url = URLComponents(string: value), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
        else { throw InvalidValue("must be an http or https URL with a host") }
        guard url.query == nil, url.fragment == nil else { throw InvalidValue("must not have a query or fragment") }
        guard !value.hasSuffix("/") else { throw InvalidValue("must not end with a slash") }
        return value
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }
}
