import Foundation
import TesseraCore

/// How an SMTP connection is protected.
public enum SMTPSecurity: Sendable, Equatable {
    /// `smtp://`: cleartext, then STARTTLS, which the relay must offer.
    case startTLS
    /// `smtps://`: TLS from the first byte.
    case implicitTLS
    /// `smtp://…?disable_starttls=true`: cleartext throughout, only to a loopback address.
    case cleartextLoopback
}

/// A relay from `mail_url`.
public struct SMTPRelay: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var username: String?
    public var password: String?
    /// An extra CA bundle (PEM) trusted besides the system roots.
    public var caFile: String?
}

/// Where mail goes, parsed from `mail_url` (contract §8.1).
public enum MailEndpoint: Sendable, Equatable {
    /// `file:DIR`: each message as `DIR/<message id>.eml`.
    case directory(String)
    case smtp(SMTPRelay)

    /// Why a `mail_url` was refused (start-up stops on it).
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses and checks a `mail_url`. Refused: other schemes, a missing host, unknown query
    /// options, CR/LF or other control characters, and `disable_starttls` to a host that is
    /// not a loopback address (credentials and codes would cross a network in cleartext).
    public init(parsing raw: String) throws(Invalid) {
        guard !raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Invalid(description: "must not contain control characters")
        }
        if raw.hasPrefix("file:") {
            var path = String(raw.dropFirst("file:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw Invalid(description: "file: needs a directory") }
            self = .directory(path)
            return
        }
        guard let url = URLComponents(string: raw), let scheme = url.scheme?.lowercased(), scheme == "smtp" || scheme == "smtps" else {
            throw Invalid(description: "must be file:DIR, smtp://[user:pass@]host[:port] or smtps://…")
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "needs a host") }
        guard url.path.isEmpty || url.path == "/", url.fragment == nil else { throw Invalid(description: "must not have a path or fragment") }
        var disableStartTLS = false
        var caFile: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "disable_starttls":
                guard let value = item.value, value == "true" || value == "false" else {
                    throw Invalid(description: "disable_starttls must be true or false")
                }
                disableStartTLS = value == "true"
            case "ca_file":
                guard let value = item.value, !value.isEmpty else { throw Invalid(description: "ca_file needs a path") }
                caFile = value
            default:
                throw Invalid(description: "unknown option \(item.name) (known: disable_starttls, ca_file)")
            }
        }
        let security: SMTPSecurity
        if scheme == "smtps" {
            guard !disableStartTLS else { throw Invalid(description: "disable_starttls does not apply to smtps://") }
            security = .implicitTLS
        } else if disableStartTLS {
            guard Self.isLoopback(host) else {
                throw Invalid(description: "disable_starttls is allowed only to a loopback address, not \(host)")
            }
            security = .cleartextLoopback
        } else {
            security = .startTLS
        }
        let port = url.port ?? (scheme == "smtps" ? 465 : 587)
        guard (1...65535).contains(port) else { throw Invalid(description: "port must be 1 to 65535") }
        self = .smtp(SMTPRelay(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port, security: security,
            username: url.user.flatMap { $0.isEmpty ? nil : $0 }, password: url.password, caFile: caFile))
    }

    /// `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
