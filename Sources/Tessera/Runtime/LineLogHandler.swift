import Foundation
import Logging
import Synchronization

/// Writes one line per log event to stderr, as text (`<time> <level> <message> key=value…`)
/// or as one JSON object per line for log collectors.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    private static let output = Mutex<Void>(())

    public var metadata: Logger.Metadata = [:]
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

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { Self.escaped($0.key) + "=" + Self.field("\($0.value)") }
            line = ([time, event.level.rawValue, Self.escaped(event.message.description)] + fields).joined(separator: " ")
        case .json:
            var object: [String: String] = merged.mapValues { "\($0)" }
            object["time"] = time
            object["level"] = event.level.rawValue
            object["message"] = event.message.description
            object["logger"] = label
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        Self.output.withLock { _ in
            // One event, one line: nothing a request sends can start another (CWE-117).
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
