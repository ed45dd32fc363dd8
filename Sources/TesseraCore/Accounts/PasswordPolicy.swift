import Foundation

/// Password rules after NIST SP 800-63B §5.1.1.2: at least 8 characters, long passphrases
/// welcome (up to 1024 bytes), any printable Unicode, normalised with NFKC, and not one of the
/// most common passwords. No composition rules.
public enum PasswordPolicy {
    public static let minimumCharacters = 8
    /// A cap against denial of service through hashing huge inputs.
    public static let maximumBytes = 1024
    /// What bcrypt reads; longer passwords are pre-hashed (see ``Password/bcryptInput(for:using:)``).
    public static let bcryptMaximumBytes = 72

    /// Checks `raw` and returns it normalised, or throws `weak_password` with the reason.
    public static func validate(_ raw: String) throws(AccountError) -> Password {
        let text = raw.precomposedStringWithCompatibilityMapping
        guard text.count >= minimumCharacters else {
            throw .weakPassword("password must be at least \(minimumCharacters) characters")
        }
        guard text.utf8.count <= maximumBytes else {
            throw .weakPassword("password must be at most \(maximumBytes) bytes")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .weakPassword("password must not contain control characters")
        }
        guard !commonPasswords.contains(text.lowercased()) else {
            throw .weakPassword("password is too common")
        }
        return Password(normalized: text)
    }

    /// A password as presented at login: normalised the same way, never rejected for policy
    /// (the policy may have changed since it was set), but bounded and free of NUL.
    public static func presented(_ raw: String) -> Password? {
        let text = raw.precomposedStringWithCompatibilityMapping
        guard !text.isEmpty, text.utf8.count <= maximumBytes, !text.unicodeScalars.contains("\u{0}") else { return nil }
        return Password(normalized: text)
    }

    /// The most common passwords of 8 characters or more in public breach corpora.
    static let commonPasswords: Set<String> = [
        "password", "password1", "password123", "12345678", "123456789", "1234567890", "qwertyuiop",
        "11111111", "00000000", "iloveyou", "sunshine", "princess", "football", "baseball",
        "welcome1", "abc12345", "qwerty123", "1q2w3e4r", "1qaz2wsx", "zaq12wsx", "trustno1",
        "superman", "starwars", "passw0rd", "letmein1", "admin123", "changeme", "88888888",
        "12341234", "987654321", "q1w2e3r4", "asdfghjk", "qwertyui", "whatever", "computer",
    ]
}
