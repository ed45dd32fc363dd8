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
        let time = UTCTime(date)
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(names[time.weekday]), \(UTCTime.pad(time.day, 2)) \(months[time.month - 1]) \(time.year) "
            + "\(UTCTime.pad(time.hour, 2)):\(UTCTime.pad(time.minute, 2)):\(UTCTime.pad(time.second, 2)) +0000"
    }
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text, lines of at most 76 characters. Works
/// on bytes: every message the courier sends goes through it.
enum QuotedPrintable {
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var lineLength = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // CRLF, CR or LF: a hard line break.
            if byte == 13 || byte == 10 {
                out += [13, 10]
                lineLength = 0
                index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
                continue
            }
            let endsLine = index + 1 == bytes.count || bytes[index + 1] == 13 || bytes[index + 1] == 10
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !endsLine)
            let width = literal ? 1 : 3
            // Keep room for the soft break "=".
            if lineLength + width > 75 {
                out += [UInt8(ascii: "="), 13, 10]
                lineLength = 0
            }
            if literal {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
            lineLength += width
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
