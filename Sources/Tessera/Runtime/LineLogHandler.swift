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

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            line = ([time, event.level.rawValue, event.message.description] + fields).joined(separator: " ")
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
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
