import Foundation
import TesseraCore

/// Builds RFC 5322 messages (contract §8.5): `multipart/alternative` with `text/plain` then
/// `text/html`, both UTF-8 in quoted-printable; `From`, `To`, `Subject` (RFC 2047 when not
/// ASCII), `Date`, a unique `Message-ID` and `Auto-Submitted: auto-generated`; CRLF line ends.
public struct MessageComposer: Sendable {
    public let from: Mailbox
    /// The right-hand side of every `Message-ID`.
    public let messageIDDomain: String

    public init(from: Mailbox, messageIDDomain: String) {
        self.from = from
        self.messageIDDomain = messageIDDomain
    }

    public func compose(id: String, to recipient: String, subject: String, text: String, html: String, date: Date) -> OutgoingMessage {
        let boundary = "=_tessera_" + id.filter { $0.isLetter || $0.isNumber }
        var lines = [
            "From: " + Self.mailboxHeader(from),
            "To: " + recipient,
            "Subject: " + Self.encodedHeaderText(Self.singleLine(subject)),
            "Date: " + Self.rfc5322Date(date),
            "Message-ID: <\(id)@\(messageIDDomain)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines += [
                "--" + boundary,
                "Content-Type: \(type); charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                QuotedPrintable.encode(body),
            ]
        }
        lines.append("--" + boundary + "--")
        return OutgoingMessage(
            id: id, envelopeFrom: from.address, envelopeTo: recipient, data: Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
    }

    /// A subject never spans lines (a template's stray newline must not start a header).
    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// `Name <addr>`, the name quoted when it has specials and encoded when not ASCII.
    static func mailboxHeader(_ mailbox: Mailbox) -> String {
        guard let name = mailbox.displayName else { return mailbox.address }
        if !name.unicodeScalars.allSatisfy(\.isASCII) { return encodedHeaderText(name) + " <\(mailbox.address)>" }
        let atext = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "!#$%&'*+-/=?^_`{|}~ "))
        let quoted = name.unicodeScalars.allSatisfy { atext.contains($0) } ? name : "\"\(name)\""
        return "\(quoted) <\(mailbox.address)>"
    }

    /// ASCII text as it is; anything else as RFC 2047 `B` encoded-words of at most 75
    /// characters, folded onto continuation lines, never splitting a character.
    static func encodedHeaderText(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(\.isASCII) else { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// RFC 5322 §3.3 in UTC, independent of the process's locale.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(days[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text, lines of at most 76 characters.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalized.split(separator: "\n", omittingEmptySubsequences: false).map { encodeLine(Array($0.utf8)) }
            .joined(separator: "\r\n")
    }

    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var lines: [String] = []
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
            let piece = literal ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
            // Keep room for the soft break "=".
            if current.utf8.count + piece.utf8.count > 75 {
                lines.append(current + "=")
                current = ""
            }
            current += piece
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }
}
