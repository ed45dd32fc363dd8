import Foundation
import TesseraCore

/// How a Tessera user looks through the Cognito API (contract §11.3): `Username` and `sub` are
/// the user id, the pool signs in by email, attributes are strings.
enum CognitoAttributes {
    /// The standard attributes of a Cognito user pool a user may set (besides `email`).
    static let standard: Set<String> = [
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website",
        "gender", "birthdate", "zoneinfo", "locale", "phone_number", "address", "updated_at",
    ]

    /// The user's attributes as an `AttributeListType`: `sub`, `email`, `email_verified`, then
    /// the rest by name.
    static func list(_ user: User, only names: Set<String>? = nil) -> [[String: String]] {
        var all: [(String, String)] = [("sub", user.id), ("email", user.email), ("email_verified", user.emailVerified ? "true" : "false")]
        all += user.attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return all.filter { names?.contains($0.0) ?? true }.map { ["Name": $0.0, "Value": $0.1] }
    }

    /// Whether the name can be set through the API: a standard attribute or `custom:<name>`.
    static func isWritable(_ name: String) -> Bool {
        if standard.contains(name) { return true }
        guard name.hasPrefix("custom:") else { return false }
        let suffix = name.dropFirst("custom:".count)
        return (1...20).contains(suffix.count) && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }
    }

    /// The attributes of a sign-up or an update other than `email`, checked.
    static func writable(_ attributes: [(name: String, value: String)]) throws(CognitoError) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in attributes where name != "email" {
            guard isWritable(name) else {
                throw .invalidParameter(name == "sub" || name == "email_verified"
                    ? "Cannot modify the non-mutable attribute \(name)" : "Attribute does not exist in the schema: \(name)")
            }
            result[name] = value
        }
        return result
    }

    /// `UserStatusType` of a user.
    static func status(_ user: User) -> String {
        user.status == .unconfirmed ? "UNCONFIRMED" : "CONFIRMED"
    }

    /// Cognito's masked destination: `a***@e***`.
    static func maskedDestination(_ email: String) -> String {
        let parts = email.split(separator: "@", maxSplits: 1)
        let local = parts.first?.first.map(String.init) ?? "x"
        let domain = parts.count > 1 ? parts[1].first.map(String.init) ?? "x" : "x"
        return "\(local)***@\(domain)***"
    }

    static func codeDeliveryDetails(_ email: String) -> [String: String] {
        ["Destination": maskedDestination(email), "DeliveryMedium": "EMAIL", "AttributeName": "email"]
    }
}
