import Foundation
import Mustache
import TesseraCore

/// The Mustache templates of every message (contract §8.6): the built-in `en` trio of each,
/// overlaid file by file from `mail_templates_dir` (`NAME/LOCALE/subject.txt`, `body.txt`,
/// `body.html`). Text parts are rendered without HTML escaping; the HTML part escapes.
public struct MailTemplates: Sendable {
    public enum Part: String, Sendable, CaseIterable {
        case subject = "subject.txt"
        case text = "body.txt"
        case html = "body.html"
    }

    /// Why templates were refused (start-up stops on it).
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    private struct Key: Hashable {
        var name: MailTemplateName
        var locale: String
        var part: Part
    }

    private var templates: [Key: MustacheTemplate] = [:]
    /// Locales with at least one file, per template.
    private var locales: [MailTemplateName: Set<String>] = [:]

    public static let defaultLocale = "en"

    /// The built-ins overlaid with `directory`, each checked by rendering it with sample values:
    /// a code message must show the code alone on a line of its text part and in its HTML, and
    /// never in its subject.
    public init(overridesIn directory: String? = nil) throws(Invalid) {
        for name in MailTemplateName.allCases {
            guard let trio = BuiltInTemplates.english[name.rawValue] else { throw Invalid(description: "no built-in template \(name.rawValue)") }
            try register(trio.subject, name, Self.defaultLocale, .subject)
            try register(trio.text, name, Self.defaultLocale, .text)
            try register(trio.html, name, Self.defaultLocale, .html)
            locales[name] = [Self.defaultLocale]
        }
        if let directory { try overlay(directory) }
        try check()
    }

    private mutating func register(_ source: String, _ name: MailTemplateName, _ locale: String, _ part: Part) throws(Invalid) {
        // Text parts are not HTML: no escaping of what a variable holds.
        let text = part == .html ? source : "{{% CONTENT_TYPE: TEXT}}" + source
        do {
            templates[Key(name: name, locale: locale, part: part)] = try MustacheTemplate(string: text)
        } catch {
            throw Invalid(description: "template \(name.rawValue)/\(locale)/\(part.rawValue) does not parse: \(error)")
        }
    }

    private mutating func overlay(_ directory: String) throws(Invalid) {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Invalid(description: "mail_templates_dir \(directory) is not a directory")
        }
        for name in MailTemplateName.allCases {
            let base = (directory as NSString).appendingPathComponent(name.rawValue)
            guard let found = try? files.contentsOfDirectory(atPath: base) else { continue }
            for locale in found.sorted() where Self.isLocale(locale) {
                for part in Part.allCases {
                    let path = ((base as NSString).appendingPathComponent(locale) as NSString).appendingPathComponent(part.rawValue)
                    guard files.fileExists(atPath: path) else { continue }
                    guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw Invalid(description: "template \(path) is not readable UTF-8")
                    }
                    try register(source, name, locale, part)
                    locales[name, default: []].insert(locale)
                }
            }
        }
    }

    /// `en`, `pt-BR`, `zh-Hant`: letters, digits and hyphens, nothing that walks a path.
    static func isLocale(_ text: String) -> Bool {
        (2...35).contains(text.count) && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
            && text.first!.isLetter
    }

    private func check() throws(Invalid) {
        let sampleCode = "12345678"
        for name in MailTemplateName.allCases {
            for locale in locales[name] ?? [] {
                let sample = render(name, locale: locale, variables: [
                    "code": sampleCode, "expires_in_minutes": "15", "email": "someone@example.com",
                    "product_name": "Tessera", "public_url": "https://id.example.com", "changed_at": "2026-01-01 00:00 UTC",
                ])
                guard name.carriesCode else { continue }
                let where_ = "template \(name.rawValue)/\(locale)"
                guard sample.text.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == sampleCode }) else {
                    throw Invalid(description: "\(where_): body.txt must show {{code}} alone on a line")
                }
                guard sample.html.contains(sampleCode) else { throw Invalid(description: "\(where_): body.html must show {{code}}") }
                guard !sample.subject.contains(sampleCode) else { throw Invalid(description: "\(where_): the subject must not show the code") }
            }
        }
    }

    /// The locale used for `requested`: itself when any file of the template exists for it, else `en`.
    public func locale(for name: MailTemplateName, requested: String?) -> String {
        guard let requested, locales[name]?.contains(requested) == true else { return Self.defaultLocale }
        return requested
    }

    /// Renders the trio; a file missing for a locale falls back to the `en` one.
    public func render(_ name: MailTemplateName, locale: String, variables: [String: String]) -> (subject: String, text: String, html: String) {
        func part(_ part: Part) -> String {
            let template = templates[Key(name: name, locale: locale, part: part)] ?? templates[Key(name: name, locale: Self.defaultLocale, part: part)]
            return template?.render(variables) ?? ""
        }
        return (part(.subject), part(.text), part(.html))
    }
}
