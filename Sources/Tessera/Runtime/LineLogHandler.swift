import Foundation
import Logging
import Synchronization
import TesseraCore

/// Writes one line per log event to stderr, as text (`<time> <level> <message> key=value…`)
/// or as one JSON object per line for log collectors.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    private static let output = Mutex<Void>(())

    public var metadata: Logger.Metadata = [:]
    /// Adds `request_id` to lines logged while a request is served (``RequestIdentity``).
    public var metadataProvider: Logger.MetadataProvider? = LineLogHandler.requestIdentity

    /// The metadata provider of every Tessera logger: the current request's id.
    public static let requestIdentity = Logger.MetadataProvider {
        RequestIdentity.current.map { ["request_id": .string($0)] } ?? [:]
    }
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// `text` with every control character written as an escape (`\n`, `\r`, `\t`,
    /// `\u{1b}` …) and backslashes doubled, so that a logged value never breaks the line.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where scalar.properties.generalCategory == .control:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A metadata value: escaped, and quoted when it holds a space, a quote or `=`, so it
    /// cannot pass for more `key=value` fields.
    static func field(_ value: String) -> String {
        let text = escaped(value)
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `text` with every email address in it masked to its first character and the domain
    /// (`a***@example.com`, contract §12.2), whoever logged it.
    static func maskingEmails(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "@")) else { return text }
        let scalars = Array(text.unicodeScalars)
        // Generous on purpose (internationalised addresses too): anything but space, control
        // characters and the delimiters around an address in text.
        func isAddressCharacter(_ scalar: Unicode.Scalar) -> Bool {
            !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control && !"\"'<>(),;:[]@=/\\`".unicodeScalars.contains(scalar)
        }
        let isLocal = isAddressCharacter
        let isDomain = isAddressCharacter
        var out = String.UnicodeScalarView()
        var index = 0
        var copied = 0
        while index < scalars.count {
            guard scalars[index] == "@" else { index += 1; continue }
            var start = index
            while start > copied, isLocal(scalars[start - 1]) { start -= 1 }
            var end = index + 1
            while end < scalars.count, isDomain(scalars[end]) { end += 1 }
            let domain = scalars[(index + 1)..<end]
            guard start < index, domain.contains(".") else { index += 1; continue }
            out.append(contentsOf: scalars[copied..<start])
            out.append(scalars[start])
            out.append(contentsOf: "***@".unicodeScalars)
            out.append(contentsOf: domain)
            copied = end
            index = end
        }
        out.append(contentsOf: scalars[copied...])
        return String(out)
    }

    /// Metadata keys left out of every line: Hummingbird's own request id, which
    /// `request_id` (honoured from `X-Request-Id`) replaces.
    static let omittedKeys: Set<String> = ["hb.request.id"]

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        merged.merge(event.metadata ?? [:]) { $1 }
        for key in Self.omittedKeys { merged[key] = nil }
        let time = UTCTime(Date()).rfc3339
        let message = Self.maskingEmails(event.message.description)
        let line: [UInt8]
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { Self.escaped($0.key) + "=" + Self.field(Self.maskingEmails("\($0.value)")) }
            line = Array(([time, event.level.rawValue, Self.escaped(message)] + fields).joined(separator: " ").utf8)
        case .json:
            // Contract §12.2: ts, level, msg, then the metadata (request_id among it) in key
            // order; control characters escaped as in text (JSON's own escaping would leave
            // DEL and C1 as they are).
            var object = JSONObjectWriter()
            object.add("ts", time)
            object.add("level", event.level.rawValue)
            object.add("msg", Self.escaped(message))
            object.add("logger", label)
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["ts", "level", "msg", "logger"].contains(key) {
                object.add(Self.escaped(key), Self.escaped(Self.maskingEmails("\(value)")))
            }
            line = object.finish()
        }
        Self.output.withLock { _ in
            // One event, one line: nothing a request sends can start another (CWE-117).
            FileHandle.standardError.write(Data(line + [UInt8(ascii: "\n")]))
        }
    }
}
