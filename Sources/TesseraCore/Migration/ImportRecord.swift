import Foundation

/// Why a line of an import file was not imported, as reported beside its line number.
public struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One user as read from an import file, before it is checked (``checked(newID:)``): every
/// field but the email may be missing.
public struct ImportRecord: Sendable, Equatable {
    public var userID: String?
    public var email: String?
    public var emailVerified: Bool?
    public var status: UserStatus?
    public var createdAt: Date?
    public var attributes: [String: String] = [:]
    public var groups: [String] = []
    /// As written in the file (``PortablePasswordHash``).
    public var passwordHash: String?

    public init() {}

    /// The user to store, or the reason this record cannot be one: the email must be an
    /// address, the id one a user can keep, the attributes within the limits every account
    /// has, the groups valid names and the hash one Tessera can check. A record without an id
    /// gets `newID()`.
    public func checked(newID: () -> String) throws(ImportProblem) -> ImportedUser {
        guard let raw = email, !raw.isEmpty else { throw ImportProblem("email is missing") }
        guard let address = EmailAddress(raw) else { throw ImportProblem("email \(Self.quoted(raw)) is not a valid address") }
        if let userID, !ImportedUser.isValidID(userID) {
            throw ImportProblem("user_id \(Self.quoted(userID)) is not 1-128 characters of A-Z a-z 0-9 . _ ~ : -")
        }
        do {
            try AccountService.checkAttributes(attributes)
        } catch {
            if case .invalidRequest(let message) = error { throw ImportProblem(message) }
            throw ImportProblem("attributes are not valid")
        }
        for group in groups where !UserGroup.isValidName(group) { throw ImportProblem("group name \(Self.quoted(group)) is not valid") }
        var hash: String?
        if let passwordHash {
            guard let stored = PortablePasswordHash.stored(fromPortable: passwordHash) else {
                throw ImportProblem("password_hash is not a bcrypt hash ($2a$, $2b$ or $2y$, cost 4-31, 60 characters)")
            }
            hash = stored
        }
        return ImportedUser(
            id: userID ?? newID(), email: address.display, emailVerified: emailVerified ?? false, status: status ?? .active,
            createdAt: createdAt, attributes: attributes, groups: Array(Set(groups)).sorted(), passwordHash: hash,
            keepsID: userID != nil)
    }

    /// `text` quoted for a report line, shortened and with control characters escaped.
    static func quoted(_ text: String) -> String {
        let short = text.count > 80 ? String(text.prefix(80)) + "…" : text
        var result = "\""
        for scalar in short.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\"" || scalar == "\\" {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
