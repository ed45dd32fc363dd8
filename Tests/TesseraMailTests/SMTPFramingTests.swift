import NIOCore
import NIOEmbedded
import Testing
@testable import TesseraMail

/// The SMTP client's framing handler against hostile or broken relays, on an embedded channel.
@Suite("SMTP framing")
struct SMTPFramingTests {
    /// A channel with the handler, and a way to send a command and get its reply's future.
    struct Wire {
        let channel = EmbeddedChannel()

        init() throws {
            try channel.pipeline.syncOperations.addHandler(SMTPClientHandler(makeTLSHandler: nil))
        }

        func send(_ command: SMTPCommand) throws -> EventLoopFuture<SMTPReply> {
            let reply = channel.eventLoop.makePromise(of: SMTPReply.self)
            try channel.writeOutbound(SMTPRequest(command: command, reply: reply))
            return reply.futureResult
        }

        func receive(_ text: String) {
            _ = try? channel.writeInbound(ByteBuffer(string: text))
        }

        func written() throws -> String {
            var out = ""
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readString(length: buffer.readableBytes) ?? "" }
            return out
        }
    }

    func result(_ future: EventLoopFuture<SMTPReply>) -> Result<SMTPReply, any Error>? {
        var result: Result<SMTPReply, any Error>?
        future.whenComplete { result = $0 }
        return result
    }

    @Test("a greeting that comes before anyone waits is kept; continuation lines fold into one reply")
    func folding() throws {
        let wire = try Wire()
        wire.receive("220 relay.example ESMTP\r\n")
        let greeting = try wire.send(.greeting)
        #expect(try result(greeting)?.get() == SMTPReply(code: 220, lines: ["relay.example ESMTP"]))
        let ehlo = try wire.send(.ehlo("id.example.com"))
        #expect(try wire.written() == "EHLO id.example.com\r\n")
        wire.receive("250-relay.example\r\n250-STARTTLS\r\n")
        #expect(result(ehlo) == nil, "not before the last line")
        wire.receive("250 AUTH PLAIN LOGIN\r\n")
        #expect(try result(ehlo)?.get() == SMTPReply(code: 250, lines: ["relay.example", "STARTTLS", "AUTH PLAIN LOGIN"]))
    }

    @Test("a malformed reply fails what waits and closes the connection")
    func malformed() throws {
        let wire = try Wire()
        let greeting = try wire.send(.greeting)
        wire.receive("hello there\r\n")
        #expect(throws: SMTPProtocolError.self) { try result(greeting)?.get() }
        #expect(!wire.channel.isActive)
    }

    @Test("a reply growing past 64 KiB without a line end is refused")
    func bounded() throws {
        let wire = try Wire()
        let greeting = try wire.send(.greeting)
        wire.receive("220 " + String(repeating: "x", count: 70_000))
        guard case .failure(let error)? = result(greeting) else { Issue.record("still waiting"); return }
        #expect("\(error)".contains("64 KiB"))
    }

    @Test("cleartext after the relay agrees to STARTTLS is refused, not read as the next reply")
    func injection() throws {
        let wire = try Wire()
        wire.receive("220 ready\r\n")
        _ = try wire.send(.greeting)
        let starttls = try wire.send(.startTLS)
        let next = try wire.send(.ehlo("id.example.com"))
        wire.receive("220 go ahead\r\n250 injected\r\n")
        #expect(throws: SMTPProtocolError.self) { try result(starttls)?.get() }
        #expect(throws: (any Error).self) { try result(next)?.get() }
    }

    @Test("a reply nobody asked for is refused")
    func unexpected() throws {
        let wire = try Wire()
        wire.receive("220 ready\r\n")
        _ = try wire.send(.greeting)
        let waiting = try wire.send(.ehlo("a"))
        wire.receive("250 ok\r\n250 again\r\n")
        #expect(try result(waiting)?.get().code == 250)
        #expect(!wire.channel.isActive)
    }

    @Test("a command sent after the connection broke fails with why it broke, not with 'I/O on closed channel'")
    func breakdownOutlivesTheChannel() throws {
        struct HandshakeRefused: Error {}
        let channel = EmbeddedChannel()
        let breakdown = SMTPBreakdown()
        try channel.pipeline.syncOperations.addHandler(SMTPClientHandler(makeTLSHandler: nil, breakdown: breakdown))
        // What a refused certificate does: the TLS handler reports it, the connection closes.
        channel.pipeline.fireErrorCaught(HandshakeRefused())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
        #expect(throws: (any Error).self, "the handler has left the pipeline") { try channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self) }
        // The client, unaware, sends its next command (EHLO after STARTTLS) on the closed channel.
        let ehlo = SMTPConnection(channel: channel, timeout: 5, breakdown: breakdown).request(.ehlo("id.example.com"))
        #expect(throws: HandshakeRefused.self) { try result(ehlo.futureResult)?.get() }
    }
}
