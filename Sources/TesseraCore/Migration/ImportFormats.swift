import Foundation

/// The files `tessera admin users import` reads (contract §11.7).
public enum ImportFormat: String, CaseIterable, Sendable {
    /// Cognito's CSV import format: the columns `GetCSVHeader` names, a header line first.
    case cognitoCSV = "cognito-csv"
    /// What `aws cognito-idp list-users` prints: `{"Users": [...]}`.
    case cognitoJSON = "cognito-json"
    /// Tessera's JSON Lines, as `users export` writes them.
    case jsonLines = "jsonl"
}

/// A record of an import file with the line it starts on (a CSV's header is line 1).
public struct NumberedRecord: Sendable {
    public let line: Int
    public let record: Result<ImportRecord, ImportProblem>

    public init(line: Int, record: Result<ImportRecord, ImportProblem>) {
        self.line = line
        self.record = record
    }
}

/// Text of a file's bytes, or the problem of a file that is not UTF-8.
func utf8Text(_ bytes: some Collection<UInt8>, what: String) throws(ImportProblem) -> String {
    guard let text = String(validating: bytes, as: UTF8.self) else { throw ImportProblem("\(what) is not UTF-8 text") }
    return text
}

// MARK: JSON Lines

/// Tessera's JSON Lines: one object per line, `{"user_id", "email", "email_verified",
/// "status", "created_at", "attributes", "groups", "password_hash"}`.
public enum JSONLinesImport {
    static let fields: Set<String> = ["user_id", "email", "email_verified", "status", "created_at", "attributes", "groups", "password_hash"]

    /// The record of one line; nil for a blank line.
    public static func record(line bytes: some Collection<UInt8>) throws(ImportProblem) -> ImportRecord? {
        let text = try utf8Text(bytes, what: "the line")
        guard !text.allSatisfy(\.isWhitespace) else { return nil }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw ImportProblem("not a JSON object: \(JSONProblem.describe(error))")
        }
        guard let object = parsed as? [String: Any] else { throw ImportProblem("not a JSON object") }
        if let unknown = object.keys.filter({ !fields.contains($0) }).sorted().first {
            throw ImportProblem("unknown field \(ImportRecord.quoted(unknown))")
        }
        var record = ImportRecord()
        record.userID = try optionalString(object, "user_id")
        record.email = try optionalString(object, "email")
        record.passwordHash = try optionalString(object, "password_hash")
        if let verified = object["email_verified"], !(verified is NSNull) {
            guard let flag = verified as? Bool, (verified as? NSNumber).map({ String(cString: $0.objCType) == "c" }) ?? true else {
                throw ImportProblem("email_verified must be true or false")
            }
            record.emailVerified = flag
        }
        if let status = try optionalString(object, "status") {
            guard let parsed = UserStatus(rawValue: status) else { throw ImportProblem("status must be active, unconfirmed or disabled") }
            record.status = parsed
        }
        if let created = try optionalString(object, "created_at") {
            guard let date = RFC3339.parse(created) else { throw ImportProblem("created_at is not an RFC 3339 time") }
            record.createdAt = date
        }
        if let attributes = object["attributes"], !(attributes is NSNull) {
            guard let map = attributes as? [String: Any] else { throw ImportProblem("attributes must be an object of strings") }
            for (name, value) in map {
                guard let text = value as? String else { throw ImportProblem("attribute \(ImportRecord.quoted(name)) is not a string") }
                record.attributes[name] = text
            }
        }
        if let groups = object["groups"], !(groups is NSNull) {
            guard let names = groups as? [Any], names.allSatisfy({ $0 is String }) else { throw ImportProblem("groups must be an array of names") }
            record.groups = names.compactMap { $0 as? String }
        }
        return record
    }

    static func optionalString(_ object: [String: Any], _ name: String) throws(ImportProblem) -> String? {
        guard let value = object[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw ImportProblem("\(name) must be a string") }
        return text
    }
}

/// Foundation's JSON errors, shortened to what a report line needs.
enum JSONProblem {
    static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? "malformed JSON"
    }
}

/// RFC 3339 times (`2026-12-06T10:00:00.123Z`, any offset, fractional seconds optional),
/// parsed and written by hand: a million imported lines must not each build a date formatter
/// (they took a quarter of an import's time).
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for index in range {
                guard b[index] >= 0x30 && b[index] <= 0x39 else { return nil }
                value = value * 10 + Int(b[index] - 0x30)
            }
            return value
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), [UInt8(ascii: "T"), UInt8(ascii: "t")].contains(b[10]),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10), let hour = digits(11..<13),
              let minute = digits(14..<16), let second = digits(17..<19),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if b[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let first = index
            while index < b.count, b[index] >= 0x30 && b[index] <= 0x39 {
                fraction += Double(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > first else { return nil }
        }
        var offset = 0
        guard index < b.count else { return nil }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"), let hours = digits(index + 1..<index + 3),
                  let minutes = digits(index + 4..<index + 6), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// `2026-12-06T10:00:00.123Z` (milliseconds, UTC).
    static func format(_ date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = Int((Double(milliseconds) / 1000).rounded(.down))
        let days = Int((Double(seconds) / 86400).rounded(.down))
        let (year, month, day) = civilFromDays(days)
        let ofDay = seconds - days * 86400
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = milliseconds - seconds * 1000
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(String(repeating: "0", count: max(0, 4 - String(year).count)))\(year)-\(two(month))-\(two(day))T"
            + "\(two(ofDay / 3600)):\(two(ofDay % 3600 / 60)):\(two(ofDay % 60)).\(fraction)Z"
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: Cognito's attributes

/// How Cognito's user attributes become a Tessera user's fields.
enum CognitoUserAttributes {
    /// Cognito's standard attributes (`GetCSVHeader`'s columns besides `cognito:*`).
    static let standard: Set<String> = [
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website",
        "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified", "address",
        "updated_at", "sub", "identities",
    ]

    /// Whether `name` is one a Cognito pool can have: standard, or `custom:` and a name.
    static func isKnown(_ name: String) -> Bool {
        standard.contains(name) || (name.hasPrefix("custom:") && name.count > "custom:".count) || name.hasPrefix("dev:custom:")
    }

    /// Fills `record` from Cognito's attributes: `sub` is the id, `email` and `email_verified`
    /// are the account's, every other becomes an attribute of the same name.
    static func apply(_ attributes: [(String, String)], to record: inout ImportRecord) throws(ImportProblem) {
        for (name, value) in attributes where !value.isEmpty {
            switch name {
            case "sub": record.userID = value
            case "email": record.email = value
            case "email_verified":
                switch value.lowercased() {
                case "true": record.emailVerified = true
                case "false": record.emailVerified = false
                default: throw ImportProblem("email_verified must be true or false, not \(ImportRecord.quoted(value))")
                }
            default: record.attributes[name] = value
            }
        }
    }

    /// Whether `text` has the shape of Cognito's generated usernames and `sub`s (a UUID).
    static func isUUID(_ text: String) -> Bool {
        UUID(uuidString: text) != nil && text.count == 36
    }
}

// MARK: Cognito CSV

/// Cognito's CSV import format. Every column of the header must be one Cognito knows
/// (`GetCSVHeader`'s, a `custom:` attribute, or `sub`); `cognito:username` is the id when
/// it is a UUID (what Cognito generates when users sign in by email) unless `sub` is given;
/// `cognito:mfa_enabled` is read and dropped. Such users have no password: they set one by
/// recovery, or at their first sign-in when lazy migration is on.
public struct CognitoCSVImport: Sendable {
    public let columns: [String]

    /// Checks the header line (line 1).
    public init(header fields: [[UInt8]]) throws(ImportProblem) {
        var names: [String] = []
        for field in fields {
            let name = try utf8Text(field, what: "the header").trimmingCharacters(in: .whitespaces)
            guard CognitoUserAttributes.isKnown(name) || name == "cognito:username" || name == "cognito:mfa_enabled" else {
                throw ImportProblem("unknown column \(ImportRecord.quoted(name)): not one of Cognito's attributes")
            }
            guard !names.contains(name) else { throw ImportProblem("column \(ImportRecord.quoted(name)) appears twice") }
            names.append(name)
        }
        guard names.contains("email") else { throw ImportProblem("no email column: Tessera's users sign in by email") }
        columns = names
    }

    /// The record of one CSV record's fields.
    public func record(fields: [[UInt8]]) throws(ImportProblem) -> ImportRecord {
        guard fields.count == columns.count else {
            throw ImportProblem("\(fields.count) fields where the header has \(columns.count)")
        }
        var attributes: [(String, String)] = []
        var username: String?
        for (name, field) in zip(columns, fields) {
            let value = try utf8Text(field, what: "column \(name)")
            switch name {
            case "cognito:username": username = value
            case "cognito:mfa_enabled":
                guard value.isEmpty || value.lowercased() == "false" || value.lowercased() == "true" else {
                    throw ImportProblem("cognito:mfa_enabled must be true or false")
                }
            default: attributes.append((name, value))
            }
        }
        var record = ImportRecord()
        try CognitoUserAttributes.apply(attributes, to: &record)
        if record.userID == nil, let username, CognitoUserAttributes.isUUID(username) { record.userID = username.lowercased() }
        return record
    }
}

/// Splits CSV text (RFC 4180: fields in double quotes may hold commas, quotes doubled and
/// line breaks) into records, one physical line at a time, as bytes: a field that is not
/// UTF-8 is reported with its record rather than ending the file.
public struct CSVRecordSplitter: Sendable {
    private var fields: [[UInt8]] = []
    private var field: [UInt8] = []
    private var quoted = false
    private var afterQuote = false
    private var malformed: String?

    public init() {}

    /// Whether a record is open across lines (a quoted field not closed yet).
    public var isInsideRecord: Bool { quoted }

    /// Adds one line (without its line break). Returns the record's fields when the line ended
    /// it, nil while a quoted field goes on; throws for a record that is not CSV.
    public mutating func add(line: some Collection<UInt8>) throws(ImportProblem) -> [[UInt8]]? {
        var bytes = Array(line)
        // A CR before the line feed ends the record (CRLF), unless a quoted field goes on.
        let carriageReturn = bytes.last == UInt8(ascii: "\r")
        if carriageReturn { bytes.removeLast() }
        for byte in bytes {
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                if afterQuote {
                    field.append(byte)
                    quoted = true
                    afterQuote = false
                } else if field.isEmpty {
                    quoted = true
                } else {
                    malformed = malformed ?? "a quote inside an unquoted field"
                }
            } else if byte == UInt8(ascii: ",") {
                fields.append(field)
                field = []
                afterQuote = false
            } else {
                if afterQuote { malformed = malformed ?? "text after a closing quote" }
                field.append(byte)
            }
        }
        if quoted {
            if carriageReturn { field.append(UInt8(ascii: "\r")) }
            field.append(UInt8(ascii: "\n"))
            return nil
        }
        fields.append(field)
        defer { reset() }
        if let malformed { throw ImportProblem("not CSV: \(malformed)") }
        return fields
    }

    /// The problem of a file that ended inside a quoted field.
    public var unfinished: ImportProblem? { quoted ? ImportProblem("not CSV: the file ends inside a quoted field") : nil }

    private mutating func reset() {
        fields = []
        field = []
        afterQuote = false
        malformed = nil
    }
}

// MARK: Cognito JSON

/// What `aws cognito-idp list-users` prints (`{"Users": [{"Username", "Attributes",
/// "UserCreateDate", "Enabled", "UserStatus"}]}`), read whole. Each user is numbered by the
/// line its object starts on. `Enabled: false` is `disabled`, `UNCONFIRMED` is `unconfirmed`,
/// every other status `active`; like the CSV's, these users have no password yet.
public enum CognitoJSONImport {
    /// The records of the document, or the problem of a document that is not list-users output.
    public static func records(document bytes: [UInt8]) throws(ImportProblem) -> [NumberedRecord] {
        _ = try utf8Text(bytes, what: "the file")
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw ImportProblem("not JSON: \(JSONProblem.describe(error))")
        }
        guard let document = parsed as? [String: Any], let users = document["Users"] as? [Any] else {
            throw ImportProblem("not the output of list-users: no \"Users\" array")
        }
        let lines = userLines(bytes, count: users.count)
        return users.enumerated().map { index, user in
            let line = index < lines.count ? lines[index] : 1
            do throws(ImportProblem) {
                return NumberedRecord(line: line, record: .success(try record(user)))
            } catch {
                return NumberedRecord(line: line, record: .failure(error))
            }
        }
    }

    static func record(_ value: Any) throws(ImportProblem) -> ImportRecord {
        guard let user = value as? [String: Any] else { throw ImportProblem("a user is not a JSON object") }
        var attributes: [(String, String)] = []
        for item in (user["Attributes"] as? [Any]) ?? [] {
            guard let pair = item as? [String: Any], let name = pair["Name"] as? String else {
                throw ImportProblem("Attributes must be objects with Name and Value")
            }
            guard let value = pair["Value"] as? String else { throw ImportProblem("attribute \(ImportRecord.quoted(name)) has no string Value") }
            guard CognitoUserAttributes.isKnown(name) else { throw ImportProblem("unknown attribute \(ImportRecord.quoted(name))") }
            attributes.append((name, value))
        }
        var record = ImportRecord()
        try CognitoUserAttributes.apply(attributes, to: &record)
        if record.userID == nil, let username = user["Username"] as? String, CognitoUserAttributes.isUUID(username) {
            record.userID = username.lowercased()
        }
        if let enabled = user["Enabled"] as? Bool, !enabled {
            record.status = .disabled
        } else if (user["UserStatus"] as? String) == "UNCONFIRMED" {
            record.status = .unconfirmed
        } else {
            record.status = .active
        }
        record.createdAt = date(user["UserCreateDate"])
        return record
    }

    /// `UserCreateDate` as the CLI prints it (ISO 8601, `T` or a space), or epoch seconds as
    /// the API sends it.
    static func date(_ value: Any?) -> Date? {
        if let seconds = value as? Double { return Date(timeIntervalSince1970: seconds) }
        guard let text = value as? String else { return nil }
        return RFC3339.parse(text.replacingOccurrences(of: " ", with: "T"))
    }

    /// The line each element of the top-level `"Users"` array starts on: a scan that follows
    /// strings and nesting, done once over the bytes.
    static func userLines(_ bytes: [UInt8], count: Int) -> [Int] {
        var lines: [Int] = []
        lines.reserveCapacity(count)
        var line = 1, depth = 0, inString = false, escaped = false
        var lastKey: [UInt8] = [], stringStart = 0, usersDepth: Int?
        for (offset, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 { lastKey = Array(bytes[stringStart..<offset]) }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = offset + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if let usersDepth, depth == usersDepth, byte == UInt8(ascii: "{") { lines.append(line) }
                if depth == 1 && byte == UInt8(ascii: "[") && lastKey == Array("Users".utf8) { usersDepth = 2 }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if let current = usersDepth, depth < current { usersDepth = nil }
            default: break
            }
        }
        return lines
    }
}

// MARK: Groups

/// A group as `aws cognito-idp list-groups` prints it.
public struct ImportedGroup: Sendable, Equatable {
    public let name: String
    public let description: String?
    public let precedence: Int?
}

/// The files `--groups` and `--members` name: `list-groups` and `list-users-in-group` output.
public enum CognitoGroupsImport {
    /// The groups of a `list-groups` document.
    public static func groups(document bytes: [UInt8]) throws(ImportProblem) -> [ImportedGroup] {
        let object = try jsonObject(bytes)
        guard let groups = object["Groups"] as? [Any] else { throw ImportProblem("not the output of list-groups: no \"Groups\" array") }
        return try groups.enumerated().map { (index, value) throws(ImportProblem) -> ImportedGroup in
            guard let group = value as? [String: Any], let name = group["GroupName"] as? String, UserGroup.isValidName(name) else {
                throw ImportProblem("Groups[\(index)] has no valid GroupName")
            }
            let precedence = (group["Precedence"] as? Int).flatMap { UserGroup.precedenceRange.contains($0) ? $0 : nil }
            let description = group["Description"] as? String
            if let description, !UserGroup.descriptionLength.contains(description.count) {
                throw ImportProblem("Groups[\(index)] has a description longer than 2048 characters")
            }
            return ImportedGroup(name: name, description: description, precedence: precedence)
        }
    }

    /// The user ids of a `list-users-in-group` document: each user's `sub` (or its UUID
    /// username).
    public static func memberIDs(document bytes: [UInt8]) throws(ImportProblem) -> [String] {
        let object = try jsonObject(bytes)
        guard let users = object["Users"] as? [Any] else { throw ImportProblem("not the output of list-users-in-group: no \"Users\" array") }
        return try users.enumerated().map { (index, user) throws(ImportProblem) -> String in
            let record = try CognitoJSONImport.record(user)
            guard let id = record.userID else { throw ImportProblem("Users[\(index)] has no sub") }
            return id
        }
    }

    static func jsonObject(_ bytes: [UInt8]) throws(ImportProblem) -> [String: Any] {
        _ = try utf8Text(bytes, what: "the file")
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw ImportProblem("not a JSON object")
        }
        return object
    }
}
