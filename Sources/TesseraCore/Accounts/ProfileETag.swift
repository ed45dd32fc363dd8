import Foundation

/// The strong entity tag of a user's profile (`GET /v1/me`), and `If-Match` (RFC 9110 §13.1.1)
/// against it. The tag is the profile's version, which moves with every change to what the
/// profile shows (migration 0008), so two answers with one tag are the same bytes.
public enum ProfileETag {
    /// `"v<version>"`.
    public static func of(_ user: User) -> String {
        "\"v\(user.profileVersion)\""
    }

    /// Whether an `If-None-Match` field value names `current` (RFC 9110 §13.1.2: `*`, or a
    /// list compared weakly, so `W/"v3"` names `"v3"`). Nil when the value is malformed.
    public static func ifNoneMatch(_ field: String, names current: String) -> Bool? {
        let value = field.trimmingCharacters(in: .whitespaces)
        if value == "*" { return true }
        guard let tags = entityTags(value) else { return nil }
        return tags.contains { $0.opaque == current }
    }

    /// Whether an `If-Match` field value holds for `current` (a strong tag): `*`, or a list of
    /// entity tags one of which is `current` by strong comparison (a weak `W/` tag never
    /// matches). Nil when the value is not a valid `If-Match`.
    public static func ifMatch(_ field: String, holdsFor current: String) -> Bool? {
        let value = field.trimmingCharacters(in: .whitespaces)
        if value == "*" { return true }
        guard let tags = entityTags(value) else { return nil }
        return tags.contains { !$0.weak && $0.opaque == current }
    }

    /// The entity tags of a comma-separated list (RFC 9110 §8.8.3), nil when one is malformed.
    static func entityTags(_ value: String) -> [(weak: Bool, opaque: Substring)]? {
        var tags: [(weak: Bool, opaque: Substring)] = []
        for member in value.split(separator: ",", omittingEmptySubsequences: false) {
            let tag = member.trimmingCharacters(in: .whitespaces)
            let weak = tag.hasPrefix("W/")
            let opaque = weak ? tag.dropFirst(2) : Substring(tag)
            guard opaque.count >= 2, opaque.first == "\"", opaque.last == "\"",
                  !opaque.dropFirst().dropLast().contains(where: { $0 == "\"" || $0.asciiValue.map { $0 < 0x21 || $0 == 0x7F } ?? false })
            else { return nil }
            tags.append((weak, opaque))
        }
        return tags
    }
}
