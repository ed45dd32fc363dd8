import NIOCore
import NIOSSL
import Synchronization

/// One reply of an SMTP server (RFC 5321 §4.2): a three-digit code and its text lines.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransientFailure: Bool { (400..<500).contains(code) }

    /// The reply as one line, shortened (for logs and `mail test`).
    public var description: String {
        String("\(code) \(lines.joined(separator: " / "))".prefix(300))
    }
}

/// A command to send (RFC 5321 §4.1, RFC 4954 for AUTH, RFC 3207 for STARTTLS).
enum SMTPCommand: Sendable {
    /// Sends nothing: waits for the server's greeting.
    case greeting
    case ehlo(String)
    case startTLS
    /// `AUTH PLAIN <base64>`, or `AUTH LOGIN`, or one base64 line of a LOGIN exchange.
    case auth(String)
    case credentialLine(String)
    case mailFrom(String)
    case recipient(String)
    case data
    /// The message body, dot-stuffed here, then the ending `CRLF . CRLF`.
    case message([UInt8])
    case reset
    case quit
}

/// A command with the promise its reply fulfils.
struct SMTPRequest: Sendable {
    var command: SMTPCommand
    var reply: EventLoopPromise<SMTPReply>
}

/// Why an SMTP conversation broke (not a reply: those are ``SMTPReply``s).
enum SMTPProtocolError: Error, CustomStringConvertible {
    case malformedReply
    case replyTooLong
    case unexpectedData
    case plaintextAfterStartTLS
    case connectionClosed

    var description: String {
        switch self {
        case .malformedReply: "the relay sent a malformed reply"
        case .replyTooLong: "the relay sent a reply longer than 64 KiB"
        case .unexpectedData: "the relay sent data nobody asked for"
        case .plaintextAfterStartTLS: "the relay sent cleartext after agreeing to STARTTLS (a possible injection): refused"
        case .connectionClosed: "the relay closed the connection"
        }
    }
}

/// Frames commands and replies on one SMTP connection and pairs each reply with the command
/// it answers. When the relay agrees to STARTTLS, it puts the TLS handler in front of itself
/// within the same event-loop turn, refusing if any cleartext byte follows the agreement
/// (the STARTTLS command-injection hole, RFC 3207 §5 and CVE-2011-0411).
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = ByteBuffer

    /// A bound on what a relay can make us hold.
    static let maximumReplyBytes = 65_536

    private var buffer: ByteBuffer?
    private var waiting: CircularBuffer<(request: SMTPCommand, promise: EventLoopPromise<SMTPReply>)> = []
    private var partialLines: [String] = []
    /// The greeting, when it came before anyone waited for it.
    private var earlyGreeting: SMTPReply?
    private var greeted = false
    /// Why the connection broke: every later command fails with it at once.
    private var failure: (any Error)?
    /// Builds the TLS handler STARTTLS switches to.
    private let makeTLSHandler: (() throws -> NIOSSLClientHandler)?

    /// Where the cause of a breakdown stays readable once the channel and this handler are gone.
    private let breakdown: SMTPBreakdown

    init(makeTLSHandler: (() throws -> NIOSSLClientHandler)?, breakdown: SMTPBreakdown = SMTPBreakdown()) {
        self.makeTLSHandler = makeTLSHandler
        self.breakdown = breakdown
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        if case .greeting = request.command {
            if let earlyGreeting {
                request.reply.succeed(earlyGreeting)
                self.earlyGreeting = nil
            } else {
                waiting.prepend((request.command, request.reply))
            }
            promise?.succeed(())
            return
        }
        waiting.append((request.command, request.reply))
        var out = context.channel.allocator.buffer(capacity: 64)
        switch request.command {
        case .greeting: break
        case .ehlo(let name): out.writeString("EHLO \(name)\r\n")
        case .startTLS: out.writeString("STARTTLS\r\n")
        case .auth(let text): out.writeString("AUTH \(text)\r\n")
        case .credentialLine(let line): out.writeString("\(line)\r\n")
        case .mailFrom(let address): out.writeString("MAIL FROM:<\(address)>\r\n")
        case .recipient(let address): out.writeString("RCPT TO:<\(address)>\r\n")
        case .data: out.writeString("DATA\r\n")
        case .message(let bytes): Self.writeDotStuffed(bytes, to: &out)
        case .reset: out.writeString("RSET\r\n")
        case .quit: out.writeString("QUIT\r\n")
        }
        context.write(wrapOutboundOut(out), promise: promise)
    }

    /// RFC 5321 §4.5.2: a line starting with `.` gets one more; the message ends with `.`
    /// alone on a line. `bytes` has CRLF line ends.
    static func writeDotStuffed(_ bytes: [UInt8], to out: inout ByteBuffer) {
        var atLineStart = true
        for byte in bytes {
            if atLineStart && byte == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
            out.writeInteger(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { out.writeString("\r\n") }
        out.writeString(".\r\n")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        do {
            while let line = try nextLine() {
                guard let reply = try fold(line) else { continue }
                if !greeted && waiting.isEmpty {
                    greeted = true
                    earlyGreeting = reply
                    continue
                }
                greeted = true
                guard let head = waiting.first else { throw SMTPProtocolError.unexpectedData }
                if case .startTLS = head.request, reply.code == 220 {
                    guard (buffer?.readableBytes ?? 0) == 0 else { throw SMTPProtocolError.plaintextAfterStartTLS }
                    if let makeTLSHandler { try context.pipeline.syncOperations.addHandler(makeTLSHandler(), position: .first) }
                }
                waiting.removeFirst()
                head.promise.succeed(reply)
            }
            if (buffer?.readableBytes ?? 0) > Self.maximumReplyBytes { throw SMTPProtocolError.replyTooLong }
        } catch {
            fail(error, context: context)
        }
    }

    /// The next CRLF- (or LF-) terminated line, without its ending.
    private func nextLine() throws -> String? {
        guard var current = buffer, let newline = current.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = newline - current.readerIndex
        guard var line = current.readString(length: length) else { return nil }
        current.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        buffer = current.readableBytes == 0 ? nil : current
        return line
    }

    /// Folds continuation lines (`250-…`) into the reply their last line (`250 …`) ends.
    private func fold(_ line: String) throws -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code),
              bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else { throw SMTPProtocolError.malformedReply }
        let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
        partialLines.append(text)
        guard partialLines.count <= 256 else { throw SMTPProtocolError.replyTooLong }
        if bytes.count > 3 && bytes[3] == UInt8(ascii: "-") { return nil }
        defer { partialLines = [] }
        return SMTPReply(code: code, lines: partialLines)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failWaiting(SMTPProtocolError.connectionClosed)
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        failWaiting(error)
        context.close(promise: nil)
    }

    private func failWaiting(_ error: any Error) {
        if failure == nil {
            failure = error
            breakdown.record(error)
        }
        while let head = waiting.popFirst() { head.promise.fail(error) }
    }
}

/// The first reason an SMTP connection broke (a failed TLS handshake, a malformed reply), kept
/// for the connection's user: a command written after the channel closed never reaches the
/// handler and fails with "I/O on closed channel", which would hide that reason.
final class SMTPBreakdown: Sendable {
    private let cause = Mutex<(any Error)?>(nil)

    /// Keeps `error` unless a reason is already known.
    func record(_ error: any Error) {
        cause.withLock { if $0 == nil { $0 = error } }
    }

    /// The recorded reason, if the connection broke.
    var reason: (any Error)? { cause.withLock { $0 } }
}
