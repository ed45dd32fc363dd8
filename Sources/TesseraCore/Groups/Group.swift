import Foundation

/// A named set of users (contract §11.5), Cognito's user-pool group: its members' tokens name
/// it (`groups` in Tessera's tokens when the scope holds `groups`, `cognito:groups` in
/// Cognito-API tokens), ordered by precedence.
public struct UserGroup: Sendable, Equatable {
    /// 1–128 characters, no control characters or white space other than a space; unique.
    public var name: String
    public var description: String?
    /// Lower values first; a group without one comes after every group with one.
    public var precedence: Int?
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, description: String?, precedence: Int?, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.description = description
        self.precedence = precedence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The bounds Cognito puts on a group (`GroupNameType`, `DescriptionType`, `PrecedenceType`).
    public static let nameLength = 1...128
    public static let descriptionLength = 0...2048
    public static let precedenceRange = 0...Int(Int32.max)

    /// Whether `name` can name a group: 1–128 characters, none of them a control character or
    /// white space other than the space (Cognito's `[\p{L}\p{M}\p{S}\p{N}\p{P}]+` plus spaces
    /// inside, which its console accepts).
    public static func isValidName(_ name: String) -> Bool {
        guard nameLength.contains(name.count), name.first != " ", name.last != " " else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar == " " || !(scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                || scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .unassigned)
        }
    }

    /// Sorts groups as tokens list them: precedence ascending (none last), then name.
    public static func tokenOrder(_ lhs: UserGroup, _ rhs: UserGroup) -> Bool {
        switch (lhs.precedence, rhs.precedence) {
        case let (left?, right?) where left != right: left < right
        case (.some, nil): true
        case (nil, .some): false
        default: lhs.name < rhs.name
        }
    }
}
