import Testing
@testable import Tessera

@Suite("Log lines")
struct LogLineTests {
    @Test("email addresses are masked to their first character and domain, wherever they appear")
    func masking() {
        #expect(LineLogHandler.maskingEmails("alice@example.com") == "a***@example.com")
        #expect(LineLogHandler.maskingEmails("to Bob.Smith+tag@mail.example.org, cc x@y.io.") == "to B***@mail.example.org, cc x***@y.io.")
        #expect(LineLogHandler.maskingEmails("no address @ here, user@localhost") == "no address @ here, user@localhost")
        #expect(LineLogHandler.maskingEmails("a@b.c@d.e") == "a***@b.c@d.e")
        #expect(LineLogHandler.maskingEmails("plain text") == "plain text")
        #expect(LineLogHandler.maskingEmails("josé@exämple.com") == "j***@exämple.com")
        #expect(LineLogHandler.maskingEmails("email=\"ann@example.com\"") == "email=\"a***@example.com\"")
    }

    @Test("control characters are escaped, so that no logged text starts a line")
    func escaping() {
        #expect(LineLogHandler.escaped("a\nb\r\t\u{1b}[31m\u{7f}\u{85}\\") == "a\\nb\\r\\t\\u{1b}[31m\\u{7f}\\u{85}\\\\")
    }
}
