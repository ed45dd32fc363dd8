import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import TesseraCore

/// Hands messages to an SMTP relay (contract §8.5): EHLO, STARTTLS (required for `smtp://`),
/// AUTH PLAIN or LOGIN (only under TLS, or in cleartext to a loopback relay), then MAIL FROM,
/// RCPT TO and DATA per message on one connection, and QUIT. Every reply is awaited under a
/// timeout; the certificate is verified against the system roots plus `ca_file`.
public struct SMTPTransport: MailTransport {
    let relay: SMTPRelay
    /// The name given in EHLO.
    let clientName: String
    let tls: NIOSSLContext?
    let timeout: TimeInterval
    let group: any EventLoopGroup

    /// Builds the TLS context now, so that an unreadable `ca_file` stops start-up.
    public init(relay: SMTPRelay, clientName: String, timeout: TimeInterval = 30, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.relay = relay
        self.clientName = clientName
        self.timeout = timeout
        self.group = group
        if relay.security == .cleartextLoopback {
            tls = nil
        } else {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            configuration.trustRoots = .default
            if let caFile = relay.caFile {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw MailEndpoint.Invalid(description: "ca_file \(caFile) cannot be read")
                }
                configuration.additionalTrustRoots = [.file(caFile)]
            }
            tls = try NIOSSLContext(configuration: configuration)
        }
    }

    public func withSession<T: Sendable>(_ body: (any MailSession) async throws -> T) async throws -> T {
        let connection = try await open()
        do {
            let result = try await body(connection)
            await connection.quit()
            return result
        } catch {
            await connection.quit()
            throw error
        }
    }

    /// Connects, greets, secures and authenticates. Any failure is temporary: the relay may
    /// be down, or the operator may be fixing its settings.
    func open() async throws -> SMTPConnection {
        let channel: any Channel
        let breakdown = SMTPBreakdown()
        do {
            channel = try await connect(breakdown: breakdown)
        } catch {
            throw MailDeliveryError.temporary("cannot connect to \(relay.host):\(relay.port): \(error)")
        }
        let connection = SMTPConnection(channel: channel, timeout: timeout, breakdown: breakdown)
        do {
            try connection.expect(try await connection.read(), "greeting")
            var extensions = try await connection.ehlo(clientName)
            if relay.security == .startTLS {
                guard extensions.contains("STARTTLS") else {
                    throw MailDeliveryError.temporary("the relay does not offer STARTTLS, which smtp:// requires")
                }
                try connection.expect(try await connection.send(.startTLS), "STARTTLS")
                extensions = try await connection.ehlo(clientName)
            }
            if let username = relay.username {
                try await connection.authenticate(username: username, password: relay.password ?? "", extensions: extensions)
            }
            // RFC 2920: a relay that offers PIPELINING gets a message's envelope in one write.
            return SMTPConnection(channel: channel, timeout: timeout, breakdown: breakdown, pipelining: extensions.contains("PIPELINING"))
        } catch {
            await connection.close()
            if let error = error as? MailDeliveryError { throw error }
            throw MailDeliveryError.temporary("\(relay.host):\(relay.port): \(error)")
        }
    }

    private func connect(breakdown: SMTPBreakdown) async throws -> any Channel {
        let (tls, host, security) = (tls, relay.host, relay.security)
        let serverName = Self.isIPAddress(host) ? nil : host
        return try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(Int64(min(max(1, timeout), 10))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let makeTLS: (() throws -> NIOSSLClientHandler)? = tls.map { context in
                        { try NIOSSLClientHandler(context: context, serverHostname: serverName) }
                    }
                    if security == .implicitTLS, let makeTLS {
                        try channel.pipeline.syncOperations.addHandler(try makeTLS())
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPClientHandler(makeTLSHandler: security == .startTLS ? makeTLS : nil, breakdown: breakdown))
                }
            }
            .connect(host: host, port: relay.port).get()
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// One SMTP connection carrying messages in turn.
struct SMTPConnection: MailSession {
    let channel: any Channel
    let timeout: TimeInterval
    /// Why the connection broke, as its handler saw it first (the one the handler was given).
    let breakdown: SMTPBreakdown
    /// Whether MAIL FROM, RCPT TO and DATA go out together (the relay offered PIPELINING).
    var pipelining = false

    /// Sends `command` and waits for its reply.
    func send(_ command: SMTPCommand) async throws -> SMTPReply {
        try await awaitReply(request(command))
    }

    /// The next reply nobody asked for (the greeting).
    func read() async throws -> SMTPReply {
        try await awaitReply(request(.greeting))
    }

    /// Writes `command` with the promise of its reply. A write that never reaches the handler
    /// (the channel already closed) fails the reply instead of leaving it awaited forever,
    /// with the reason the connection broke when the handler saw one (a refused certificate,
    /// not "I/O on closed channel"); completing a promise twice is a no-op in NIO.
    func request(_ command: SMTPCommand, flush: Bool = true) -> EventLoopPromise<SMTPReply> {
        let reply = channel.eventLoop.makePromise(of: SMTPReply.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        let breakdown = breakdown
        written.futureResult.whenFailure { reply.fail(breakdown.reason ?? $0) }
        if flush {
            channel.writeAndFlush(SMTPRequest(command: command, reply: reply), promise: written)
        } else {
            channel.write(SMTPRequest(command: command, reply: reply), promise: written)
        }
        return reply
    }

    /// The reply, or ``SMTPTimeout`` when none came in time: a timer on the event loop closes
    /// the connection, which fails every reply still awaited (no task per reply). Cancelling
    /// the task (the server shutting down) closes it too.
    func awaitReply(_ promise: EventLoopPromise<SMTPReply>) async throws -> SMTPReply {
        let expired = TimerFlag()
        let channel = channel
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) {
            expired.fire()
            channel.close(promise: nil)
        }
        do {
            let reply = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            timer.cancel()
            return reply
        } catch {
            timer.cancel()
            if expired.fired { throw SMTPTimeout(seconds: timeout) }
            throw error
        }
    }

    func expect(_ reply: SMTPReply, _ step: String) throws {
        guard reply.isPositive else { throw MailDeliveryError.temporary("\(step) refused: \(reply)") }
    }

    /// EHLO; returns the extension keywords offered (upper-cased), with their parameters.
    func ehlo(_ name: String) async throws -> Set<String> {
        let reply = try await send(.ehlo(name))
        try expect(reply, "EHLO")
        var keywords: Set<String> = []
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ")
            guard let first = words.first else { continue }
            keywords.insert(String(first))
            if first == "AUTH" { for mechanism in words.dropFirst() { keywords.insert("AUTH=" + mechanism) } }
        }
        return keywords
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN (RFC 4954, RFC 4616).
    func authenticate(username: String, password: String, extensions: Set<String>) async throws {
        if extensions.contains("AUTH=PLAIN") {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try expectAuth(try await send(.auth("PLAIN " + token)))
        } else if extensions.contains("AUTH=LOGIN") {
            guard try await send(.auth("LOGIN")).code == 334,
                  try await send(.credentialLine(Data(username.utf8).base64EncodedString())).code == 334
            else { throw MailDeliveryError.temporary("AUTH LOGIN refused") }
            try expectAuth(try await send(.credentialLine(Data(password.utf8).base64EncodedString())))
        } else {
            throw MailDeliveryError.temporary("the relay offers neither AUTH PLAIN nor AUTH LOGIN")
        }
    }

    private func expectAuth(_ reply: SMTPReply) throws {
        guard reply.code == 235 else { throw MailDeliveryError.temporary("authentication refused: \(reply)") }
    }

    func deliver(_ message: OutgoingMessage) async throws {
        let envelope: [(SMTPCommand, String, Set<Int>)] = [
            (.mailFrom(message.envelopeFrom), "MAIL FROM", [250]),
            (.recipient(message.envelopeTo), "RCPT TO", [250, 251]),
            (.data, "DATA", [354]),
        ]
        // Pipelined: the three commands in one go, then their replies in order (RFC 2920 §3.1).
        let replies: [SMTPReply]
        if pipelining {
            let pending = envelope.enumerated().map { index, step in request(step.0, flush: index == envelope.count - 1) }
            var answered: [SMTPReply] = []
            for promise in pending { answered.append(try await awaitReply(promise)) }
            replies = answered
        } else {
            var answered: [SMTPReply] = []
            for (command, _, accepted) in envelope {
                let reply = try await send(command)
                answered.append(reply)
                if !accepted.contains(reply.code) { break }
            }
            replies = answered
        }
        for (reply, (_, step, accepted)) in zip(replies, envelope) where !accepted.contains(reply.code) {
            // A relay that took DATA although the envelope failed gets an empty message; then
            // RSET leaves the connection ready for the next one.
            if replies.count == envelope.count, replies[2].code == 354 { _ = try? await send(.message([])) }
            _ = try? await send(.reset)
            throw Self.failure("\(step) refused: \(reply)", reply)
        }
        let reply = try await send(.message(message.data))
        guard reply.code == 250 else { throw Self.failure("the message refused: \(reply)", reply) }
    }

    /// 5xx is permanent; anything else (4xx, or a code that makes no sense here) is worth a retry.
    static func failure(_ reason: String, _ reply: SMTPReply) -> MailDeliveryError {
        (500..<600).contains(reply.code) ? .permanent(reason) : .temporary(reason)
    }

    func quit() async {
        _ = try? await send(.quit)
        await close()
    }

    func close() async {
        try? await channel.close()
    }
}

/// A reply did not come in time.
struct SMTPTimeout: Error, CustomStringConvertible {
    let seconds: TimeInterval
    var description: String { "no reply within \(seconds) s" }
}
