import Foundation
import NIOCore
import Testing
import TesseraCore
@testable import TesseraMail
import TesseraTestSupport

@Suite("Messages, templates and mail_url")
struct MessageTests {
    let composer = MessageComposer(from: Mailbox(displayName: "Ünïcode Corp, Inc.", address: "no-reply@example.com"), messageIDDomain: "example.com")

    /// The message's lines (CRLF split) and whether every line ended in CRLF.
    func lines(_ message: OutgoingMessage) -> [String] {
        let text = String(decoding: message.data, as: UTF8.self)
        #expect(text.hasSuffix("\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "a bare LF")
        return text.components(separatedBy: "\r\n")
    }

    @Test("a message is multipart/alternative, text then HTML, with the headers of §8.5 and lines of at most 78 characters")
    func shape() {
        let text = "Hello,\n\n12345678\n\n" + String(repeating: "long line ", count: 30) + "\n.starts with a dot\nünïcödé"
        let message = composer.compose(
            id: "m1.abc", to: "ann@example.com", subject: "Votre code — Ünïcode", text: text, html: "<p>12345678</p>",
            date: Date(timeIntervalSince1970: 1_800_000_000))
        let lines = lines(message)
        let headers = lines.prefix { !$0.isEmpty }
        #expect(headers.contains("To: ann@example.com"))
        #expect(headers.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000"))
        #expect(headers.contains("Message-ID: <m1.abc@example.com>"))
        #expect(headers.contains("Auto-Submitted: auto-generated"))
        #expect(headers.contains("MIME-Version: 1.0"))
        #expect(headers.contains { $0.hasPrefix("From: =?UTF-8?B?") && $0.hasSuffix("<no-reply@example.com>") })
        #expect(headers.contains { $0.hasPrefix("Subject: =?UTF-8?B?") })
        #expect(headers.contains("Content-Type: multipart/alternative; boundary=\"=_tessera_m1abc\""))
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        let plain = lines.firstIndex(of: "Content-Type: text/plain; charset=utf-8")!
        let html = lines.firstIndex(of: "Content-Type: text/html; charset=utf-8")!
        #expect(plain < html)
        #expect(lines.contains("12345678"), "the code alone on its line")
        #expect(lines.contains("=C3=BCn=C3=AFc=C3=B6d=C3=A9"))
        #expect(lines.last == "" && lines[lines.count - 2] == "--=_tessera_m1abc--")
        #expect(envelope(message) == ("no-reply@example.com", "ann@example.com"))
    }

    @Test("the Date header agrees with Foundation's calendar for dates from 1901 to 2200")
    func dates() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_174_000_000...7_258_000_000, using: &generator)))
            #expect(MessageComposer.rfc5322Date(date) == formatter.string(from: date), "\(date)")
        }
    }

    func envelope(_ message: OutgoingMessage) -> (String, String) { (message.envelopeFrom, message.envelopeTo) }

    @Test("RFC 2047: a long non-ASCII subject folds into encoded-words of at most 75 characters that decode back")
    func encodedWords() {
        let subject = String(repeating: "Passwort zurücksetzen ", count: 6)
        let encoded = MessageComposer.encodedHeaderText(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1 && words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        let decoded = words.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(MessageComposer.encodedHeaderText("plain") == "plain")
        #expect(MessageComposer.singleLine("a\r\nBcc: evil@example.com") == "a Bcc: evil@example.com")
    }

    @Test("quoted-printable: soft breaks keep lines at 76, '=' and trailing spaces are encoded, and it decodes back")
    func quotedPrintable() {
        let text = String(repeating: "ab=cd ", count: 40) + " \nnext line "
        let encoded = QuotedPrintable.encode(text)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") })
        // Decode: join soft breaks, then =XX.
        let joined = encoded.replacingOccurrences(of: "=\r\n", with: "")
        var bytes: [UInt8] = []
        let utf8 = Array(joined.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "="), let value = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        #expect(String(decoding: bytes, as: UTF8.self) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test("dot-stuffing: a line starting with a dot gets another; the message ends with CRLF . CRLF")
    func dotStuffing() {
        var out = ByteBuffer()
        SMTPClientHandler.writeDotStuffed(Array(".one\r\ntwo\r\n..three\r\n.".utf8), to: &out)
        #expect(out.readString(length: out.readableBytes) == "..one\r\ntwo\r\n...three\r\n..\r\n.\r\n")
    }

    @Test("mail_url: the forms of §8.1 parse; cleartext is refused off loopback; junk is refused", arguments: [
        ("file:./data/mail", true), ("file:///var/mail", true), ("smtp://mx.example.com", true), ("smtps://u:p@mx.example.com", true),
        ("smtp://127.0.0.1:2525?disable_starttls=true", true), ("smtp://localhost?disable_starttls=true", true),
        ("smtp://mx.example.com?disable_starttls=true", false), ("smtps://127.0.0.1?disable_starttls=true", false),
        ("smtp://mx.example.com?ca_file=", false), ("smtp://mx.example.com?verify=false", false), ("http://mx.example.com", false),
        ("smtp://", false), ("file:", false), ("smtp://mx.example.com\r\nRCPT", false), ("smtp://mx.example.com:0", false),
    ])
    func endpoints(url: String, valid: Bool) {
        #expect(((try? MailEndpoint(parsing: url)) != nil) == valid)
    }

    @Test("mail_url: ports default to 587 (STARTTLS) and 465 (implicit TLS); credentials and ca_file are read")
    func endpointDetails() throws {
        #expect(try MailEndpoint(parsing: "smtp://mx.example.com") == .smtp(SMTPRelay(
            host: "mx.example.com", port: 587, security: .startTLS, username: nil, password: nil, caFile: nil)))
        #expect(try MailEndpoint(parsing: "smtps://us%40er:p%3Ass@mx.example.com?ca_file=/etc/ca.pem") == .smtp(SMTPRelay(
            host: "mx.example.com", port: 465, security: .implicitTLS, username: "us@er", password: "p:ss", caFile: "/etc/ca.pem")))
        #expect(try MailEndpoint(parsing: "file:./data/mail") == .directory("./data/mail"))
    }

    @Test("mail_from: a mailbox with or without a name; CR/LF and broken forms refused", arguments: [
        ("Tessera <no-reply@example.com>", true), ("\"Example, Inc.\" <a@example.com>", true), ("a@example.com", true),
        ("Evil\r\nBcc: x@example.com <a@example.com>", false), ("<a@example.com", false), ("Name <not an address>", false), ("", false),
    ])
    func mailboxes(text: String, valid: Bool) {
        #expect((Mailbox(parsing: text) != nil) == valid)
    }

    @Test("templates: built-ins render every variable; text parts are not HTML-escaped, HTML parts are")
    func builtIns() throws {
        let templates = try MailTemplates()
        let variables = ["code": "12345678", "expires_in_minutes": "15", "email": "a&b@example.com", "product_name": "Acme <Id>", "public_url": "https://id.example.com"]
        let rendered = templates.render(.recoveryCode, locale: "en", variables: variables)
        #expect(rendered.subject == "Reset your Acme <Id> password")
        #expect(rendered.text.contains("a&b@example.com") && rendered.text.contains("\n12345678\n"))
        #expect(rendered.html.contains("a&amp;b@example.com") && rendered.html.contains("Acme &lt;Id&gt;"))
        for name in MailTemplateName.allCases {
            let trio = templates.render(name, locale: "en", variables: variables)
            #expect(!trio.subject.isEmpty && !trio.text.isEmpty && trio.html.hasPrefix("<!DOCTYPE html>"), "\(name)")
        }
    }

    @Test("mail_templates_dir overrides single files per locale; a missing file falls back to en; a code template without its code line is refused")
    func overrides() throws {
        let directory = TemporaryDirectory()
        try directory.write("templates/recovery_code/de/subject.txt", "Passwort für {{product_name}} zurücksetzen")
        try directory.write("templates/recovery_code/de/body.txt", "Ihr Code:\n{{code}}\n")
        try directory.write("templates/password_changed/en/subject.txt", "Changed!")
        let templates = try MailTemplates(overridesIn: directory.path("templates"))
        #expect(templates.locale(for: .recoveryCode, requested: "de") == "de")
        #expect(templates.locale(for: .recoveryCode, requested: "fr") == "en")
        #expect(templates.locale(for: .verificationCode, requested: "de") == "en")
        let german = templates.render(.recoveryCode, locale: "de", variables: ["code": "99", "product_name": "X"])
        #expect(german.subject == "Passwort für X zurücksetzen" && german.text == "Ihr Code:\n99\n")
        #expect(german.html.contains("99"), "body.html falls back to the en one")
        #expect(templates.render(.passwordChanged, locale: "en", variables: [:]).subject == "Changed!")

        try directory.write("bad/verification_code/en/body.txt", "Your code is {{code}}.")
        #expect(throws: MailTemplates.Invalid.self) { try MailTemplates(overridesIn: directory.path("bad")) }
        try directory.write("leaky/recovery_code/en/subject.txt", "Code {{code}}")
        #expect(throws: MailTemplates.Invalid.self) { try MailTemplates(overridesIn: directory.path("leaky")) }
        #expect(throws: MailTemplates.Invalid.self) { try MailTemplates(overridesIn: directory.path("missing")) }
    }
}
