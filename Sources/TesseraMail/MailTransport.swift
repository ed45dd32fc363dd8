import Foundation

/// Why a message was not delivered, as the courier acts on it (contract §8.5).
public enum MailDeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Worth another attempt later: a refused or dropped connection, a timeout, an SMTP 4xx.
    case temporary(String)
    /// Never worth retrying: an SMTP 5xx, a recipient the relay will not take.
    case permanent(String)

    public var description: String {
        switch self {
        case .temporary(let reason): "temporary: \(reason)"
        case .permanent(let reason): "permanent: \(reason)"
        }
    }

    public var isPermanent: Bool {
        if case .permanent = self { return true }
        return false
    }
}

/// One composed message ready for a transport.
public struct OutgoingMessage: Sendable {
    /// Unique: the `.eml` file name under `file:`.
    public var id: String
    /// The envelope sender (`MAIL FROM`), an addr-spec.
    public var envelopeFrom: String
    /// The envelope recipient (`RCPT TO`), an addr-spec.
    public var envelopeTo: String
    /// The RFC 5322 message: headers and body, CRLF line ends, not dot-stuffed.
    public var data: [UInt8]

    public init(id: String, envelopeFrom: String, envelopeTo: String, data: [UInt8]) {
        self.id = id
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.data = data
    }
}

/// An open way of handing messages over: a directory, or one SMTP connection that carries
/// several messages in turn.
public protocol MailSession: Sendable {
    /// Hands one message over. A ``MailDeliveryError`` for this message leaves the session
    /// usable; any other error means the session is broken and must not be used again.
    func deliver(_ message: OutgoingMessage) async throws
}

/// Where messages go (`mail_url`): a directory of `.eml` files or an SMTP relay.
public protocol MailTransport: Sendable {
    /// Opens a session, runs `body` with it and closes it (for SMTP: `QUIT`). An error
    /// opening it (connection refused, TLS, authentication) is a ``MailDeliveryError``.
    func withSession<T: Sendable>(_ body: (any MailSession) async throws -> T) async throws -> T
}

extension MailEndpoint {
    /// The transport for this endpoint. `clientName` is what SMTP's EHLO says (the public
    /// URL's host).
    public func makeTransport(clientName: String) throws -> any MailTransport {
        switch self {
        case .directory(let path): FileMailTransport(directory: path)
        case .smtp(let relay): try SMTPTransport(relay: relay, clientName: clientName)
        }
    }
}
