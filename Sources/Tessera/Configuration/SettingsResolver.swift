import Foundation
import TesseraCore
import Yams

/// A setting given in a way Tessera refuses, with where it came from. Start-up stops on it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Builds ``Settings`` from the layers of contract §1: flags > environment (`TESSERA_…`) >
/// config file (flat YAML) > defaults. Every value is validated; one outside its range is
/// refused, never clamped.
public struct SettingsResolver {
    /// Where a raw value came from, for error messages.
    enum Origin: CustomStringConvertible {
        case flag(String), environment(String), file(String)

        var description: String {
            switch self {
            case .flag(let key): "--\(key.replacingOccurrences(of: "_", with: "-"))"
            case .environment(let name): name
            case .file(let path): "config file \(path)"
            }
        }
    }

    /// Raw values from flags, keyed by setting key (`keys_dir`, not `--keys-dir`).
    var flags: [String: String]
    var environment: [String: String]
    var configFile: String?

    public init(flags: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment, configFile: String? = nil) {
        self.flags = flags
        self.environment = environment
        self.configFile = configFile
    }

    public func resolve() throws(ConfigurationError) -> Settings {
        let (fileValues, clients) = try loadConfigFile()
        var settings = Settings()
        settings.clients = clients
        // Contract §12.2: text for a person at a terminal, JSON lines for a log collector.
        settings.logFormat = isatty(STDERR_FILENO) != 0 ? "text" : "json"
        var issuerGiven = false
        for spec in SettingSpec.all {
            let raw: (String, Origin)?
            if let value = flags[spec.key] {
                raw = (value, .flag(spec.key))
            } else if let value = environment[spec.environmentName] {
                raw = (value, .environment(spec.environmentName))
            } else if let value = fileValues[spec.key], let configFile {
                raw = (value, .file(configFile))
            } else {
                raw = nil
            }
            guard let (value, origin) = raw else { continue }
            do {
                try spec.apply(value, &settings)
            } catch {
                // A secret is never echoed, not even a wrong one.
                let shown = spec.isSecret ? "" : " \"\(Self.shown(value))\""
                throw ConfigurationError("invalid \(spec.key)\(shown) (from \(origin)): \(error.description)")
            }
            if spec.key == "issuer" { issuerGiven = true }
        }
        if !issuerGiven {
            let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
            settings.issuer = "http://\(host):\(settings.port)"
        }
        return settings
    }

    /// A refused value as an error line may show it: control characters escaped (the line
    /// stays one line), and a password in a URL's user info replaced by `***`.
    static func shown(_ value: String) -> String {
        var text = value
        if let url = URLComponents(string: value), url.password != nil, let at = value.firstIndex(of: "@"),
           let scheme = value.range(of: "://"), scheme.upperBound < at,
           let colon = value[scheme.upperBound..<at].firstIndex(of: ":") {
            text = String(value[..<value.index(after: colon)]) + "***" + String(value[at...])
        }
        return text.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
    }

    /// One line for a YAML error: Yams's own description goes on with the offending line of
    /// the file, which may hold a client secret and would break the one-line start-up error.
    static func summary(of error: any Error) -> String {
        func at(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _)?, let .parser(context, problem, mark, _)?, let .composer(context, problem, mark, _)?:
            return "\(problem) at \(at(mark))" + (context.map { " (\($0.text) at \(at($0.mark)))" } ?? "")
        case let .reader(problem, offset, _, _)?:
            return problem + (offset.map { " at byte \($0)" } ?? "")
        case let .duplicatedKeysInMapping(duplicates, context)?:
            return "\(duplicates.sorted().joined(separator: ", ")) given more than once in one mapping at \(at(context.mark))"
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }

    /// The config file as flat `key: scalar` pairs. Unknown keys are refused (a typo must not
    /// silently fall back to a default).
    private func loadConfigFile() throws(ConfigurationError) -> ([String: String], [ClientDeclaration]) {
        guard let configFile else { return ([:], []) }
        let text: String
        do {
            text = try String(contentsOfFile: configFile, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read config file \(configFile)")
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("config file \(configFile) is not valid YAML: \(Self.summary(of: error))")
        }
        guard let document else { return ([:], []) }
        guard let mapping = document as? [String: Any] else {
            throw ConfigurationError("config file \(configFile) must be a mapping of setting: value")
        }
        let known = Set(SettingSpec.all.map(\.key))
        var values: [String: String] = [:]
        var clients: [ClientDeclaration] = []
        for (key, value) in mapping {
            if key == "clients" {
                clients = try ClientDeclarationParser.parse(value, file: configFile)
                continue
            }
            guard known.contains(key) else {
                throw ConfigurationError("unknown setting \"\(key)\" in config file \(configFile)")
            }
            switch value {
            case let value as String: values[key] = value
            case let value as Int: values[key] = String(value)
            case let value as Double: values[key] = String(value)
            case let value as Bool: values[key] = String(value)
            default: throw ConfigurationError("setting \"\(key)\" in config file \(configFile) must be a single value")
            }
        }
        return (values, clients)
    }
}
