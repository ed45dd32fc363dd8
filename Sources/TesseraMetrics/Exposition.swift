/// The two formats `/metrics` answers in (contract §12.1): Prometheus's text format 0.0.4 and,
/// when the scraper asks for it, OpenMetrics 1.0.0.
public enum Exposition: Sendable, Equatable {
    case text
    case openMetrics

    /// The format an `Accept` header asks for: OpenMetrics only when it is named.
    public init(accept: String?) {
        self = (accept ?? "").lowercased().contains("application/openmetrics-text") ? .openMetrics : .text
    }

    public var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// `text` (in format 0.0.4) as this format. OpenMetrics names a counter's family without
    /// its `_total` suffix, which stays on the samples, and ends with `# EOF`.
    public func render(_ text: String) -> String {
        guard self == .openMetrics else { return text }
        var counters: Set<Substring> = []
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") && line.hasSuffix(" counter") {
            counters.insert(line.dropFirst("# TYPE ".count).dropLast(" counter".count))
        }
        var output = ""
        output.reserveCapacity(text.utf8.count + 16)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                if parts.count >= 3, counters.contains(parts[2]), parts[2].hasSuffix("_total") {
                    output += parts[0] + " " + parts[1] + " " + parts[2].dropLast("_total".count)
                    output += parts.count == 4 ? " " + parts[3] + "\n" : "\n"
                    continue
                }
            }
            output += line + "\n"
        }
        return output + "# EOF\n"
    }

    /// A metric or label name with every character outside `[a-zA-Z0-9_:]` made `_`.
    static func metricName(_ raw: String) -> String {
        var name = String(raw.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") ? $0 : "_" })
        if let first = name.first, first.isNumber { name = "_" + name }
        return name
    }

    /// A label value as the format quotes it: backslash, double quote and line feed escaped.
    static func escapedLabelValue(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var output = ""
        for character in value {
            switch character {
            case "\\": output += "\\\\"
            case "\"": output += "\\\""
            case "\n": output += "\\n"
            default: output.append(character)
            }
        }
        return output
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
